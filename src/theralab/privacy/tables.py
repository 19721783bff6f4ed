"""Tables added by the trust work: refresh tokens and consent records.

Users and audit events stay in :mod:`theralab.privacy.models`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from theralab.runtime.db import Base, UTCDateTime, utcnow


class RefreshToken(Base):
    """One refresh token (only its SHA-256 is stored). Tokens of one login share a ``family``:
    reusing a rotated token revokes the whole family (a stolen token then dies with the real one)."""

    __tablename__ = "privacy_refresh_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    username: Mapped[str] = mapped_column(String(120), nullable=False, index=True)
    family: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ConsentRecord(Base):
    """One consent decision for one patient and one purpose; the latest record per purpose rules.

    Records are only ever added (history is kept), so a withdrawal is a new row with
    ``granted=0`` and takes effect for every check made after it is committed.
    """

    __tablename__ = "privacy_consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(120), nullable=False, index=True)
    purpose: Mapped[str] = mapped_column(String(40), nullable=False)
    granted: Mapped[int] = mapped_column(Integer, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    note: Mapped[str] = mapped_column(String(500), nullable=False, default="")
