"""Demo ward: bedside devices on eight demo patients, streaming vitals through the ingest path.

Every reading goes through :func:`theralab.monitoring.streams.parse_payload` and
:class:`~theralab.monitoring.streams.Ingestor` (what ``POST /v1/observations`` and the MQTT client
use), one 15-minute time point at a time with the server clock at that point, so NEWS2 is scored,
stored and alerted exactly as on a live ward, and each alert carries the time it was raised.

Patients follow scripted courses with seeded noise: one deteriorates from well to the high NEWS2
band over the four hours before the demo was first loaded (its alert is raised in the medium band,
then raised to high), one sits in the medium band, one has a single parameter scoring 3, the rest
are well. A value is a function of the patient and the time point only, so loading again re-sends
the same readings (stored once, counted as duplicates) and extends the streams up to now.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

SLOT = timedelta(minutes=15)
HISTORY = timedelta(hours=12)
WARD = "Ward 7A"
DETERIORATION = timedelta(hours=4)

#: name -> (LOINC, unit); the five NEWS2 vitals plus diastolic pressure (charted as a panel).
CODES = {"respiratory_rate": ("9279-1", "/min"), "spo2": ("2708-6", "%"), "systolic_bp": ("8480-6", "mm[Hg]"),
         "diastolic_bp": ("8462-4", "mm[Hg]"), "heart_rate": ("8867-4", "/min"), "temperature": ("8310-5", "Cel")}
WELL = {"respiratory_rate": 15, "spo2": 97, "systolic_bp": 124, "diastolic_bp": 78, "heart_rate": 74,
        "temperature": 36.8}
NOISE = {"respiratory_rate": 1.0, "spo2": 0.6, "systolic_bp": 4, "diastolic_bp": 3, "heart_rate": 3,
         "temperature": 0.12}


@dataclass(frozen=True)
class Course:
    """A scripted clinical course: ``start`` vitals, ``end`` vitals reached over ``DETERIORATION``."""

    name: str
    start: dict[str, float]
    end: dict[str, float] | None = None


COURSES = [
    # sepsis-like: NEWS2 ~1 -> ~11 (RR 27, SpO2 91 on air, SBP 98, HR 124, T 38.7)
    Course("deteriorating", WELL, {"respiratory_rate": 27, "spo2": 91, "systolic_bp": 98, "diastolic_bp": 60,
                                   "heart_rate": 124, "temperature": 38.7}),
    # medium band: RR 22 (2), SpO2 95 (1), HR 104 (1), T 38.3 (1) -> 5
    Course("medium", {**WELL, "respiratory_rate": 22, "spo2": 95, "heart_rate": 104, "temperature": 38.3}),
    # a single parameter scoring 3 (SpO2 90 on air): low-medium band
    Course("single parameter 3", {**WELL, "spo2": 90.5}),
    Course("low", {**WELL, "heart_rate": 96, "respiratory_rate": 19, "temperature": 37.6}),
    Course("well", WELL), Course("well", {**WELL, "heart_rate": 66, "systolic_bp": 132}),
    Course("well", {**WELL, "respiratory_rate": 14, "temperature": 36.5}), Course("well", WELL),
]
#: vitals rounded as a monitor displays them
DECIMALS = {"temperature": 1}


def ward_patients(session: Session, n: int = len(COURSES)) -> list[str]:
    """The demo ward's patients: the first ``n`` living adults of the synthetic cohort, by MRN."""
    from theralab.ehr.tables import PatientRow

    rows = session.scalars(select(PatientRow).where(PatientRow.deceased.is_(False), PatientRow.mrn.is_not(None),
                                                    PatientRow.source.like("synthetic:%"))
                           .order_by(PatientRow.mrn).limit(n))
    return [r.id for r in rows]


def _vitals(course: Course, index: int, at: datetime, anchor: datetime) -> dict[str, float]:
    """The course's vitals at ``at``: a function of patient and time only (seeded by both)."""
    progress = 0.0
    if course.end is not None:
        progress = min(1.0, max(0.0, (at - (anchor - DETERIORATION)) / DETERIORATION))
    seed = int(hashlib.sha256(f"{index}:{at.isoformat()}".encode()).hexdigest()[:12], 16)
    rng = random.Random(seed)
    out = {}
    for name, base in course.start.items():
        target = (course.end or course.start)[name]
        value = base + (target - base) * progress + rng.gauss(0, NOISE[name]) * (0.5 if progress else 1.0)
        if name == "spo2":
            value = min(100.0, value)
        out[name] = round(value, DECIMALS.get(name, 0))
    return out


def _slots(now: datetime) -> list[datetime]:
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    last = epoch + ((now - epoch) // SLOT) * SLOT
    return [last - k * SLOT for k in range(int(HISTORY / SLOT), -1, -1)]


def load_ward(now: datetime | None = None) -> dict[str, Any]:
    """Register the ward's devices (once) and stream the last 12 hours of vitals; report what was done."""
    from theralab.monitoring.streams import Ingestor, RateLimiter, parse_payload, readings_frame, register_device
    from theralab.monitoring.streams.tables import Device
    from theralab.runtime.db import session_scope

    now = now or datetime.now(UTC)
    with session_scope() as session:
        patients = ward_patients(session)
        devices: list[tuple[str, Course, int, datetime]] = []
        for i, pid in enumerate(patients):
            device_id = f"demo-bedside-{i + 1}"
            device = session.get(Device, device_id)
            if device is None:
                register_device(session, device_id, pid, kind="bedside monitor", location=f"{WARD}, bed {i + 1}")
                session.flush()
                device = session.get(Device, device_id)
            anchor = device.created_at if device.created_at.tzinfo else device.created_at.replace(tzinfo=UTC)
            devices.append((device_id, COURSES[i], i, anchor))
    if not devices:
        return {"devices": 0, "readings": 0, "alerts": 0}
    ingestor = Ingestor(limiter=RateLimiter(per_second=1e9, burst=1e9))
    accepted = duplicates = 0
    alerts: set[int] = set()
    slots = _slots(now)
    with session_scope() as session:
        owners = {d.id: d for d in session.scalars(select(Device).where(Device.id.in_([d[0] for d in devices])))}
        for device in owners.values():
            session.expunge(device)
        # time points already streamed (a second load): counted as duplicates, not sent again
        sent: Counter[tuple[str, datetime]] = Counter()
        for device in owners.values():
            for r in readings_frame(session, device.patient_id, start=slots[0]):
                if r["device_id"] == device.id:
                    sent[(device.id, datetime.fromisoformat(r["at"]).astimezone(UTC))] += 1
    for at in slots:
        for device_id, course, index, anchor in devices:
            if sent.get((device_id, at), 0) >= len(CODES):
                duplicates += len(CODES)
                continue
            vitals = _vitals(course, index, at, anchor)
            stamp = at.isoformat().replace("+00:00", "Z")
            payload = {"device_id": device_id, "readings": [
                {"code": CODES[name][0], "value": value, "unit": CODES[name][1], "at": stamp}
                for name, value in vitals.items()]}
            report = ingestor.ingest(parse_payload(payload, device_id), device=owners[device_id], source="demo",
                                     now=min(at + timedelta(minutes=1), now))
            accepted += report.accepted
            duplicates += report.duplicates
            alerts.update(a["id"] for a in report.alerts)
    return {"devices": len(devices), "readings": accepted, "duplicates": duplicates, "alerts": len(alerts),
            "patients": [d[0] for d in devices]}
