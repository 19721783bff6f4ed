"""Scheduling: search, book, reschedule, cancel, reminders, exam orders, and 100 concurrent bookings."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from theralab.errors import ConflictError, InputError, NotFoundError
from theralab.monitoring.assistant import scheduling as sch
from theralab.runtime.db import session_scope


def _tomorrow(hour: int = 9) -> datetime:
    d = datetime.now(UTC) + timedelta(days=2)
    return d.replace(hour=hour, minute=0, second=0, microsecond=0)


def test_slots_search_book_cancel_reschedule(assistant_db):
    start = _tomorrow()
    with session_scope() as s:
        made = sch.add_slots(s, "dr-a", start, start + timedelta(hours=1), minutes=15)
        assert len(made) == 4
        assert sch.add_slots(s, "dr-a", start, start + timedelta(hours=1), minutes=15) == []  # idempotent
        ids = [x.id for x in made]
    with session_scope() as s:
        appt = sch.book(s, "p1", ids[0], booked_by="p1", reason="check-up")
        aid = appt.id
        assert [x.id for x in sch.find_slots(s, clinician="dr-a")] == ids[1:]
    with session_scope() as s, pytest.raises(ConflictError, match="just been taken"):
        sch.book(s, "p2", ids[0], booked_by="p2")
    with session_scope() as s, pytest.raises(ConflictError, match="already have"):
        sch.book(s, "p1", ids[0], booked_by="p1")  # own clash is caught before the constraint
    with session_scope() as s:
        moved = sch.reschedule(s, aid, ids[2], by="p1", patient_id="p1")
        assert moved.slot_id == ids[2]
        assert {x.id for x in sch.find_slots(s, clinician="dr-a")} == {ids[0], ids[1], ids[3]}
    with session_scope() as s, pytest.raises(NotFoundError):
        sch.cancel(s, aid, by="p2", patient_id="p2")  # someone else's booking: not found, not revealed
    with session_scope() as s:
        sch.cancel(s, aid, by="p1", patient_id="p1")
        assert len(sch.find_slots(s, clinician="dr-a")) == 4
        assert sch.list_appointments(s, "p1") == []
        assert [a.status for a in sch.list_appointments(s, "p1", include_cancelled=True)] == ["cancelled"]
        again = sch.book(s, "p2", ids[2], booked_by="p2")  # the freed slot is bookable again
        assert again.slot_id == ids[2]
    with session_scope() as s, pytest.raises(ConflictError):
        sch.cancel(s, aid, by="p1", patient_id="p1")


def test_reminders_due_once(assistant_db):
    start = _tomorrow(10)
    with session_scope() as s:
        slot = sch.add_slots(s, "dr-b", start, start + timedelta(minutes=15))[0]
        sch.book(s, "p1", slot.id, booked_by="p1")
    with session_scope() as s:
        assert sch.due_reminders(s, now=start - timedelta(hours=30)) == []
        first = sch.due_reminders(s, now=start - timedelta(hours=23))
        assert len(first) == 1 and first[0]["patient_id"] == "p1"
        assert sch.due_reminders(s, now=start - timedelta(hours=23)) == []  # not sent twice
        assert len(sch.due_reminders(s, now=start - timedelta(hours=1))) == 1


def test_exam_order_flow(assistant_db):
    start = _tomorrow(8)
    with session_scope() as s:
        lab = sch.add_slots(s, "lab-1", start, start + timedelta(minutes=30), minutes=15, kind="lab")
        consult = sch.add_slots(s, "dr-c", start, start + timedelta(minutes=15))
        order = sch.order_exam(s, "p5", "fasting lipid panel", slot_kind="lab", requested_by="doc")
        assert [o.exam for o in sch.open_exam_orders(s, "p5")] == ["fasting lipid panel"]
        with pytest.raises(InputError, match="needs a lab slot"):
            sch.book_exam(s, order.id, consult[0].id, booked_by="p5")
        with pytest.raises(NotFoundError):
            sch.book_exam(s, order.id, lab[0].id, booked_by="p6", patient_id="p6")
        appt = sch.book_exam(s, order.id, lab[0].id, booked_by="p5", patient_id="p5")
        assert appt.reason == "fasting lipid panel" and sch.open_exam_orders(s, "p5") == []
        sch.cancel(s, appt.id, by="p5")
        assert [o.id for o in sch.open_exam_orders(s, "p5")] == [order.id]


def test_bad_times_rejected(assistant_db):
    with session_scope() as s:
        with pytest.raises(InputError, match="time zone"):
            sch.add_slots(s, "dr", datetime(2030, 1, 1, 9), datetime(2030, 1, 1, 10))
        past = datetime.now(UTC) - timedelta(days=1)
        slot = sch.add_slots(s, "dr", past, past + timedelta(minutes=15))[0]
        with pytest.raises(InputError, match="in the past"):
            sch.book(s, "p1", slot.id, booked_by="p1")


def test_100_concurrent_attempts_for_10_slots(tl_env_any_db):
    start = _tomorrow(13)
    with session_scope() as s:
        slot_ids = [x.id for x in sch.add_slots(s, "dr-z", start, start + timedelta(minutes=150), minutes=15)]
    assert len(slot_ids) == 10

    def attempt(i: int) -> str:
        try:
            with session_scope() as s:
                sch.book(s, f"patient-{i}", slot_ids[i % 10], booked_by=f"patient-{i}")
            return "booked"
        except ConflictError:
            return "conflict"

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(attempt, range(100)))
    assert outcomes.count("booked") == 10 and outcomes.count("conflict") == 90
    with session_scope() as s:
        assert sch.find_slots(s, clinician="dr-z") == []
        from sqlalchemy import func, select

        from theralab.monitoring.assistant.tables import Appointment

        assert s.scalar(select(func.count()).select_from(Appointment)) == 10
        assert s.scalar(select(func.count(func.distinct(Appointment.slot_id)))) == 10


def test_opening_slots_is_bounded_to_a_quarter(assistant_db):
    """Schemathesis found that an open-ended range (year 1 to 9999) wrote rows until it timed out."""
    from datetime import UTC

    from theralab.errors import InputError
    from theralab.monitoring.assistant import scheduling

    with session_scope() as session, pytest.raises(InputError) as err:
        scheduling.add_slots(session, "dr-a", datetime(2020, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))
    assert err.value.where == "end"
