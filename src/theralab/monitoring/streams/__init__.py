"""Vital-sign streams: HTTP and MQTT ingestion, codes and units, rules that score and alert.

Modules: :mod:`.ingest`, :mod:`.mqtt`, :mod:`.rules`, :mod:`.vitals`, :mod:`.store` (streamed vitals are
patient observations in ``ehr_observations``), :mod:`.tables` (devices, quarantine, score revisions).
"""

from __future__ import annotations

from theralab.monitoring.streams.ingest import (
    NEWS2_CODE,
    Ingestor,
    IngestReport,
    RateLimiter,
    Reading,
    authenticate_device,
    parse_payload,
    quarantine,
    register_device,
)
from theralab.monitoring.streams.store import ingest_totals, latest_vitals, readings_frame

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
