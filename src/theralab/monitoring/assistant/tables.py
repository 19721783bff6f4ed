"""ORM tables of the health assistant (migration ``0005_assistant``).

Why a unique, nullable ``slot_id`` on appointments: the database itself, not application code,
guarantees that two patients never hold one slot, on SQLite and PostgreSQL alike, under any
number of concurrent requests. Cancelling sets ``slot_id`` to NULL (NULLs never collide), so the
slot is free again while the appointment row stays for the audit trail.
Conversations and their messages cascade on delete: a patient deleting a conversation removes
its text; the audit log keeps only that it happened.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from theralab.runtime.db import Base, UTCDateTime, utcnow


class PatientLink(Base):
    """Which patient record a ``patient``-role user is (set by a clinician or admin)."""

    __tablename__ = "assistant_patient_links"

    username: Mapped[str] = mapped_column(String(120), primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    linked_by: Mapped[str] = mapped_column(String(120), nullable=False)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class _PatientEntry:
    """A numbered row about one patient record (a questionnaire, an exam order)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-2)
    patient_id: Mapped[str] = mapped_column(String(128), nullable=False, index=True, sort_order=-1)


class QuestionnaireRow(_PatientEntry, Base):
    """One completed questionnaire; ``fhir`` is the validated QuestionnaireResponse."""

    __tablename__ = "assistant_questionnaires"

    instrument: Mapped[str] = mapped_column(String(20), nullable=False)
    total: Mapped[int] = mapped_column(Integer, nullable=False)
    band: Mapped[str] = mapped_column(String(40), nullable=False)
    protocol: Mapped[str | None] = mapped_column(String(40), nullable=True)
    fhir: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    authored_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class Conversation(Base):
    """A dialogue: its owner, the dialogue state and filled slots."""

    __tablename__ = "assistant_conversations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(120), nullable=False, index=True)
    patient_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    state: Mapped[str] = mapped_column(String(30), nullable=False, default="greeting")
    context: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class Message(Base):
    """One turn: who spoke (patient, assistant, clinician), what, and how it was understood."""

    __tablename__ = "assistant_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("assistant_conversations.id", ondelete="CASCADE"), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    intent: Mapped[str | None] = mapped_column(String(40), nullable=True)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)


class Handover(Base):
    """A conversation handed to a human: the clinician inbox."""

    __tablename__ = "assistant_handovers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("assistant_conversations.id", ondelete="CASCADE"), nullable=False, index=True)
    username: Mapped[str] = mapped_column(String(120), nullable=False)
    patient_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    reason: Mapped[str] = mapped_column(String(200), nullable=False)
    priority: Mapped[str] = mapped_column(String(20), nullable=False, default="routine")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="open", index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    alert_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class Slot(Base):
    """A bookable period in a clinician's calendar (or an examination room's)."""

    __tablename__ = "assistant_slots"
    __table_args__ = (UniqueConstraint("clinician", "start_at", name="uq_assistant_slots_clinician_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clinician: Mapped[str] = mapped_column(String(120), nullable=False, index=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False, default="consultation")
    location: Mapped[str] = mapped_column(String(200), nullable=False, default="")


class Appointment(Base):
    """A booking; ``slot_id`` unique (NULL once cancelled) so one slot holds one patient."""

    __tablename__ = "assistant_appointments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("assistant_slots.id"), nullable=True, unique=True)
    last_slot_id: Mapped[int] = mapped_column(Integer, nullable=False)
    patient_id: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    clinician: Mapped[str] = mapped_column(String(120), nullable=False)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    reason: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="booked")
    exam_order_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    booked_by: Mapped[str] = mapped_column(String(120), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class ExamOrder(_PatientEntry, Base):
    """An examination a clinician requested, which the patient then schedules."""

    __tablename__ = "assistant_exam_orders"

    exam: Mapped[str] = mapped_column(String(200), nullable=False)
    slot_kind: Mapped[str] = mapped_column(String(40), nullable=False)
    requested_by: Mapped[str] = mapped_column(String(120), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="requested")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class Reminder(Base):
    """A reminder due before an appointment; ``sent_at`` set when delivered."""

    __tablename__ = "assistant_reminders"
    __table_args__ = (UniqueConstraint("appointment_id", "due_at", name="uq_assistant_reminders_appt_due"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("assistant_appointments.id", ondelete="CASCADE"), nullable=False, index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
