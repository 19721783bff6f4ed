"""Tables of the vital-sign streams: devices, quarantined (rejected) readings, NEWS2 score revisions.

The accepted readings themselves are patient observations (``ehr_observations``, see
:mod:`theralab.monitoring.streams.store`): one store for every vital sign, whatever its source.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from theralab.runtime.db import Base, UTCDateTime, utcnow


class Device(Base):
    """A registered wearable or bedside device, bound to one patient, with its own secret token."""

    __tablename__ = "monitoring_devices"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(120), ForeignKey("ehr_patients.id", ondelete="CASCADE"),
                                            nullable=False, index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(80), nullable=False, default="wearable")
    # where the device (and so its patient) is, e.g. "Ward 7A, bed 3": the ward board shows it
    location: Mapped[str | None] = mapped_column(String(120), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class QuarantinedReading(Base):
    """A reading that was refused (impossible value, wrong unit, future clock, flood), with why."""

    __tablename__ = "quarantined_readings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[str] = mapped_column(String(120), nullable=False, default="", index=True)
    code: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    raw: Mapped[str] = mapped_column(Text, nullable=False, default="")
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    source: Mapped[str] = mapped_column(String(10), nullable=False, default="http")
    # MQTT: client id and packet id of the delivery; a broker redelivers an unacknowledged message
    # with the same packet id, which is how a redelivery is told from an identical new message
    message_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)


class ScoreRevision(Base):
    """Every value a computed score (NEWS2) had for one time point, and when it was computed.

    Why: the vitals of one time point may arrive in several posts; the stored score is recomputed
    from the chart each time, and this table keeps what was known when (the first, partial value
    and each later one), so a review can see what the ward saw at any moment.
    """

    __tablename__ = "monitoring_score_revisions"
    __table_args__ = (Index("ix_monitoring_score_revisions_patient_at", "patient_id", "code", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(120), nullable=False)
    code: Mapped[str] = mapped_column(String(20), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    previous: Mapped[float | None] = mapped_column(Float, nullable=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
