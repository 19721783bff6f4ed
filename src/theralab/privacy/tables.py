"""Tables of privacy: users, the audit trail, refresh tokens, consent records, care teams and the
login throttle's failure log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from theralab.runtime.db import Base, UTCDateTime, utcnow

ROLES = ("admin", "researcher", "clinician", "patient")


class User(Base):
    """A local user. Passwords are stored only as argon2 hashes."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    roles: Mapped[str] = mapped_column(String(200), nullable=False, default="researcher")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    must_change_password: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    patient_id: Mapped[str] = mapped_column(String(120), nullable=False, default="")

    @property
    def role_set(self) -> set[str]:
        return {r for r in self.roles.split(",") if r}


class AuditEvent(Base):
    """One append-only audit record: who did what to which resource, when, and the outcome.

    It never holds the payload (no patient data, no molecule lists): only identifiers. Modelled on
    FHIR AuditEvent: ``actor`` (agent.who), ``channel``/``source`` (api|web|cli, and the network
    address or host), ``action``, ``outcome``, ``patient_id``/``resource_*`` (entity). ``seq``,
    ``prev_hash`` and ``hash`` chain the sealed events (see :mod:`theralab.privacy.audit`).
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120), nullable=False)
    action: Mapped[str] = mapped_column(String(120), nullable=False)
    resource_type: Mapped[str] = mapped_column(String(80), nullable=False, default="")
    resource_id: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    outcome: Mapped[str] = mapped_column(String(40), nullable=False, default="ok")
    patient_id: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    channel: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    source: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    hash: Mapped[str] = mapped_column(String(64), nullable=False, default="")


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
    scope: Mapped[str] = mapped_column(String(1000), nullable=False, default="")


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


class _TeamEntry:
    """What every care-team row carries: its team, and who put the entry there and when."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-3)
    team: Mapped[str] = mapped_column(String(120), nullable=False, index=True, sort_order=-2)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow, sort_order=1)
    added_by: Mapped[str] = mapped_column(String(120), nullable=False, default="", sort_order=2)


class CareTeamMember(_TeamEntry, Base):
    """A user on a care team. A clinician or researcher sees the patients of the teams they are on."""

    __tablename__ = "privacy_care_team_members"
    __table_args__ = (UniqueConstraint("team", "username", name="uq_privacy_care_team_members_team_username"),)

    username: Mapped[str] = mapped_column(String(120), nullable=False, index=True)


class CareTeamPatient(_TeamEntry, Base):
    """A patient under a care team's care; ``patient_id`` ``*`` puts every patient under the team
    (a hospital-wide rapid-response team, or a single-practice site)."""

    __tablename__ = "privacy_care_team_patients"
    __table_args__ = (UniqueConstraint("team", "patient_id", name="uq_privacy_care_team_patients_team_patient_id"),)

    patient_id: Mapped[str] = mapped_column(String(120), nullable=False, index=True)


class LoginFailure(Base):
    """One failed login, counted by the login throttle (one row per key: ``user:<name>``, ``addr:<ip>``).

    Kept in the database so that every server process sharing it sees the same count.
    """

    __tablename__ = "privacy_login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    at: Mapped[float] = mapped_column(Float, nullable=False, index=True)
