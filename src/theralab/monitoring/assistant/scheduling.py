"""Clinicians' calendars: slots, search, booking, rescheduling, cancellation, reminders, exam orders.

Why the database decides: a booking inserts an appointment whose ``slot_id`` is UNIQUE, inside a
savepoint. Two concurrent requests for one slot both pass any "is it free?" check, but only one
INSERT can commit; the other gets an IntegrityError, turned into a ``ConflictError`` (HTTP 409)
that tells the patient to pick another slot. No locks, no race window, same on SQLite and
PostgreSQL. Cancelling sets ``slot_id`` to NULL, which frees the slot and keeps the row.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from theralab.errors import ConflictError, InputError, NotFoundError
from theralab.monitoring.assistant.tables import Appointment, ExamOrder, Reminder, Slot
from theralab.runtime.db import utcnow

REMINDER_OFFSETS = (timedelta(hours=24), timedelta(hours=2))


def _aware(value: datetime, where: str) -> datetime:
    if value.tzinfo is None:
        raise InputError("times must carry a time zone", where=where, hint="e.g. 2026-12-07T09:00:00+00:00")
    return value


#: the longest stretch of calendar one request may open (a quarter): bounds the rows one call writes
MAX_OPEN_SPAN = timedelta(days=92)


def add_slots(session: Session, clinician: str, start: datetime, end: datetime, *, minutes: int = 15,
              kind: str = "consultation", location: str = "") -> list[Slot]:
    """Open consecutive ``minutes``-long slots from ``start`` to ``end``; existing ones are kept as they are."""
    _aware(start, "start")
    _aware(end, "end")
    if not clinician.strip():
        raise InputError("clinician is empty", where="clinician")
    if end <= start or not 5 <= minutes <= 480:
        raise InputError("need end after start and 5-480 minute slots", where="minutes")
    if end - start > MAX_OPEN_SPAN:
        raise InputError(f"open at most {MAX_OPEN_SPAN.days} days of slots at a time, got {(end - start).days}",
                         where="end", hint="open a calendar quarter by quarter")
    existing = set(session.scalars(select(Slot.start_at).where(Slot.clinician == clinician,
                                                                Slot.start_at >= start, Slot.start_at < end)))
    out = []
    t = start
    while t + timedelta(minutes=minutes) <= end:
        if t not in existing:
            slot = Slot(clinician=clinician, start_at=t, end_at=t + timedelta(minutes=minutes), kind=kind,
                        location=location)
            session.add(slot)
            out.append(slot)
        t += timedelta(minutes=minutes)
    session.flush()
    return out


def find_slots(session: Session, *, clinician: str | None = None, kind: str | None = None,
               after: datetime | None = None, before: datetime | None = None, limit: int = 20) -> list[Slot]:
    """Free slots, earliest first (a slot is free when no appointment holds it)."""
    query = (select(Slot).outerjoin(Appointment, Appointment.slot_id == Slot.id)
             .where(Appointment.id.is_(None), Slot.start_at >= (after or utcnow())))
    if before is not None:
        query = query.where(Slot.start_at < before)
    if clinician:
        query = query.where(Slot.clinician == clinician)
    if kind:
        query = query.where(Slot.kind == kind)
    return list(session.scalars(query.order_by(Slot.start_at, Slot.id).limit(max(1, min(limit, 200)))))


def _slot(session: Session, slot_id: int) -> Slot:
    slot = session.get(Slot, slot_id)
    if slot is None:
        raise NotFoundError(f"no slot {slot_id}", where="slot_id")
    if slot.start_at <= utcnow():
        raise InputError(f"slot {slot_id} is in the past", where="slot_id", hint="search free slots again")
    return slot


def _clash(session: Session, patient_id: str, slot: Slot, ignore: int | None = None) -> None:
    query = select(Appointment.id).where(
        Appointment.patient_id == patient_id, Appointment.status == "booked",
        and_(Appointment.start_at < slot.end_at, Appointment.end_at > slot.start_at))
    if ignore is not None:
        query = query.where(Appointment.id != ignore)
    if session.scalar(query.limit(1)) is not None:
        raise ConflictError("you already have an appointment at that time", where="slot_id",
                            hint="pick another slot or move the other appointment")


def _claim(session: Session, fn: Any) -> None:
    """Run ``fn`` in a savepoint; a unique-constraint clash becomes a ConflictError."""
    try:
        with session.begin_nested():
            fn()
            session.flush()
    except IntegrityError as exc:
        raise ConflictError("that slot has just been taken", where="slot_id",
                            hint="search free slots again and pick another") from exc


def book(session: Session, patient_id: str, slot_id: int, *, booked_by: str, reason: str = "",
         exam_order_id: int | None = None) -> Appointment:
    """Book ``slot_id`` for ``patient_id``; ``ConflictError`` when someone else got it first."""
    slot = _slot(session, slot_id)
    _clash(session, patient_id, slot)
    appt = Appointment(slot_id=slot.id, last_slot_id=slot.id, patient_id=patient_id, clinician=slot.clinician,
                       start_at=slot.start_at, end_at=slot.end_at, reason=reason[:300], booked_by=booked_by,
                       exam_order_id=exam_order_id)
    _claim(session, lambda: session.add(appt))
    _reminders(session, appt)
    return appt


def _get(session: Session, appointment_id: int, patient_id: str | None) -> Appointment:
    appt = session.get(Appointment, appointment_id)
    if appt is None or (patient_id is not None and appt.patient_id != patient_id):
        # Same answer for "not yours" and "does not exist": never confirm another patient's booking.
        raise NotFoundError(f"no appointment {appointment_id}", where="appointment_id")
    if appt.status != "booked":
        raise ConflictError(f"appointment {appointment_id} is {appt.status}", where="appointment_id")
    return appt


def reschedule(session: Session, appointment_id: int, new_slot_id: int, *, by: str,
               patient_id: str | None = None) -> Appointment:
    """Move a booking to another free slot in one transaction (the old slot is freed only if it succeeds)."""
    appt = _get(session, appointment_id, patient_id)
    slot = _slot(session, new_slot_id)
    if appt.exam_order_id is not None:
        order = session.get(ExamOrder, appt.exam_order_id)
        if order is not None and slot.kind != order.slot_kind:
            raise InputError(f"this examination needs a {order.slot_kind} slot", where="slot_id")
    _clash(session, appt.patient_id, slot, ignore=appt.id)

    def move() -> None:
        appt.slot_id, appt.last_slot_id = slot.id, slot.id
        appt.clinician, appt.start_at, appt.end_at = slot.clinician, slot.start_at, slot.end_at
        appt.updated_at = utcnow()

    _claim(session, move)
    for r in session.scalars(select(Reminder).where(Reminder.appointment_id == appt.id, Reminder.sent_at.is_(None))):
        session.delete(r)
    session.flush()
    _reminders(session, appt)
    return appt


def cancel(session: Session, appointment_id: int, *, by: str, patient_id: str | None = None) -> Appointment:
    """Cancel: free the slot, drop unsent reminders, keep the row (status ``cancelled``)."""
    appt = _get(session, appointment_id, patient_id)
    appt.slot_id, appt.status, appt.updated_at = None, "cancelled", utcnow()
    for r in session.scalars(select(Reminder).where(Reminder.appointment_id == appt.id, Reminder.sent_at.is_(None))):
        session.delete(r)
    if appt.exam_order_id is not None:
        order = session.get(ExamOrder, appt.exam_order_id)
        if order is not None and order.status == "scheduled":
            order.status = "requested"
    session.flush()
    return appt


def _reminders(session: Session, appt: Appointment) -> None:
    now = utcnow()
    for offset in REMINDER_OFFSETS:
        due = appt.start_at - offset
        if due > now:
            session.add(Reminder(appointment_id=appt.id, due_at=due))
    session.flush()


def due_reminders(session: Session, now: datetime | None = None) -> list[dict[str, Any]]:
    """Reminders due and not yet sent, marked sent (the caller delivers them: e-mail, SMS, app)."""
    now = now or utcnow()
    rows = session.execute(select(Reminder, Appointment).join(Appointment, Appointment.id == Reminder.appointment_id)
                           .where(Reminder.sent_at.is_(None), Reminder.due_at <= now,
                                  Appointment.status == "booked").order_by(Reminder.due_at)).all()
    out = []
    for reminder, appt in rows:
        reminder.sent_at = now
        out.append({"reminder_id": reminder.id, "appointment_id": appt.id, "patient_id": appt.patient_id,
                    "start_at": appt.start_at.isoformat(), "clinician": appt.clinician})
    session.flush()
    return out


def list_appointments(session: Session, patient_id: str, *, include_cancelled: bool = False) -> list[Appointment]:
    """A patient's appointments, earliest first."""
    query = select(Appointment).where(Appointment.patient_id == patient_id)
    if not include_cancelled:
        query = query.where(Appointment.status == "booked")
    return list(session.scalars(query.order_by(Appointment.start_at)))


def order_exam(session: Session, patient_id: str, exam: str, *, slot_kind: str, requested_by: str,
               note: str = "") -> ExamOrder:
    """A clinician requests an examination (e.g. ``fasting blood test`` in a ``lab`` slot)."""
    if not exam.strip() or not slot_kind.strip():
        raise InputError("exam and slot_kind are required", where="exam")
    order = ExamOrder(patient_id=patient_id, exam=exam.strip()[:200], slot_kind=slot_kind, requested_by=requested_by,
                      note=note)
    session.add(order)
    session.flush()
    return order


def open_exam_orders(session: Session, patient_id: str) -> list[ExamOrder]:
    """Requested examinations the patient has not booked yet."""
    return list(session.scalars(select(ExamOrder).where(ExamOrder.patient_id == patient_id,
                                                         ExamOrder.status == "requested").order_by(ExamOrder.id)))


def book_exam(session: Session, order_id: int, slot_id: int, *, booked_by: str,
              patient_id: str | None = None) -> Appointment:
    """Book the examination a clinician requested into a slot of the right kind."""
    order = session.get(ExamOrder, order_id)
    if order is None or (patient_id is not None and order.patient_id != patient_id):
        raise NotFoundError(f"no examination order {order_id}", where="order_id")
    if order.status != "requested":
        raise ConflictError(f"examination order {order_id} is {order.status}", where="order_id")
    slot = _slot(session, slot_id)
    if slot.kind != order.slot_kind:
        raise InputError(f"{order.exam} needs a {order.slot_kind} slot, slot {slot_id} is {slot.kind}",
                         where="slot_id", hint=f"search slots with kind={order.slot_kind}")
    appt = book(session, order.patient_id, slot_id, booked_by=booked_by, reason=order.exam, exam_order_id=order.id)
    order.status = "scheduled"
    return appt


def appointment_dict(appt: Appointment) -> dict[str, Any]:
    """JSON-able view of an appointment."""
    return {"id": appt.id, "patient_id": appt.patient_id, "clinician": appt.clinician,
            "start_at": appt.start_at.isoformat(), "end_at": appt.end_at.isoformat(), "status": appt.status,
            "reason": appt.reason, "exam_order_id": appt.exam_order_id}


def slot_dict(slot: Slot) -> dict[str, Any]:
    """JSON-able view of a slot."""
    return {"id": slot.id, "clinician": slot.clinician, "start_at": slot.start_at.isoformat(),
            "end_at": slot.end_at.isoformat(), "kind": slot.kind, "location": slot.location}
