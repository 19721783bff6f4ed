"""Vital-sign streams: HTTP and MQTT ingestion, codes and units, rules that score and alert.

Modules: :mod:`.ingest`, :mod:`.mqtt`, :mod:`.rules`, :mod:`.vitals`, :mod:`.tables`.
"""

from __future__ import annotations

from theralab.monitoring.streams.ingest import (
    NEWS2_CODE,
    Ingestor,
    IngestReport,
    RateLimiter,
    Reading,
    authenticate_device,
    ingest_totals,
    latest_vitals,
    parse_payload,
    quarantine,
    readings_frame,
    register_device,
)

__all__ = [
    "IngestReport",
    "Ingestor",
    "NEWS2_CODE",
    "RateLimiter",
    "Reading",
    "authenticate_device",
    "ingest_totals",
    "latest_vitals",
    "parse_payload",
    "quarantine",
    "readings_frame",
    "register_device",
]
