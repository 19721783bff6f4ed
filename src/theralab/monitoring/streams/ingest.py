"""Ingest vital-sign readings from HTTP and MQTT: parse, authenticate, normalise, deduplicate,
store, score and alert.

Accepted payloads (one JSON document):

* a FHIR R4 ``Observation`` (``valueQuantity`` or a blood-pressure panel with components), or a
  ``Bundle`` of them, with LOINC codes and ``effectiveDateTime``/``effectiveInstant``;
* compact JSON: ``{"device_id": "w-1", "readings": [{"code": "8867-4", "value": 72,
  "unit": "/min", "at": "2026-11-27T08:00:00Z"}]}`` (``code`` may also be a name such as
  ``"heart_rate"``).

Every reading ends in exactly one place: stored (in its canonical unit), counted as a duplicate
(same device, code and time already stored), or quarantined with the reason (impossible value,
wrong unit, no time zone, clock in the future, unknown code, flood). The stream never stops on a
bad message. After storing, the patient's latest vitals are scored with NEWS2 and single-reading
rules, and alerts are raised through :mod:`theralab.runtime.alerts`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from theralab.errors import AuthError, InputError
from theralab.monitoring.streams.schemas import (
    Bundle,
    CodeableConcept,
    CompactMessage,
    Observation,
    Quantity,
    load_json,
    validate_payload,
)
from theralab.monitoring.streams.store import insert_readings, observation_values
from theralab.monitoring.streams.tables import Device, QuarantinedReading
from theralab.monitoring.streams.vitals import BP_PANEL, NAME_TO_CODE, NEWS2_CODE, VITALS, normalise_reading
from theralab.runtime.db import session_scope, utcnow

FUTURE_TOLERANCE = timedelta(minutes=5)
NEWS2_CODES = {code for code, vital in VITALS.items()
               if vital.name in ("respiratory_rate", "spo2", "systolic_bp", "heart_rate", "temperature")}
MAX_AGE = timedelta(days=400)


@dataclass
class Reading:
    """One parsed reading before validation."""

    device_id: str
    code: str
    value: Any
    unit: str | None
    at: datetime | None
    raw: str = ""
    problem: str | None = None


@dataclass
class IngestReport:
    """What happened to every reading of a message or batch."""

    accepted: int = 0
    duplicates: int = 0
    quarantined: list[dict[str, str]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    scores: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "quarantined": self.quarantined,
                "alerts": self.alerts, "scores": self.scores}


# ---------------------------------------------------------------- devices

def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def register_device(session: Session, device_id: str, patient_id: str, kind: str = "wearable",
                    location: str | None = None) -> str:
    """Register a device for an existing patient and return its secret token (shown once).

    Why the patient must exist: a device bound to a mistyped id would stream readings, scores and
    alerts for nobody, and the ward would never see them.
    """
    from theralab.ehr.patients import load_patients

    if session.get(Device, device_id) is not None:
        raise InputError(f"device {device_id!r} is already registered", where="device_id")
    if not load_patients(session, [patient_id]):
        raise InputError(f"no patient with id {patient_id!r}: a device attaches to an existing patient",
                         where="patient_id",
                         hint="import the patient first ('theralab ehr import' or POST /v1/ehr/...), then register")
    token = secrets.token_urlsafe(24)
    session.add(Device(id=device_id, patient_id=patient_id, token_sha256=_sha(token), kind=kind,
                       location=(location or "").strip()[:120] or None))
    return token


def authenticate_device(session: Session, device_id: str, token: str | None) -> Device:
    """The device when its token matches (constant-time), else AuthError."""
    if not isinstance(device_id, str) or not isinstance(token, str):
        raise AuthError("device id and token must be strings", hint="send the token issued at registration")
    device = session.get(Device, device_id[:120]) if device_id else None
    if device is None or not device.active or not token or not hmac.compare_digest(device.token_sha256, _sha(token)):
        raise AuthError(f"device {device_id!r} is unknown or its token is wrong",
                        hint="register the device with 'theralab monitor device add' and send its token")
    return device


# ---------------------------------------------------------------- parsing

def _parse_time(text: Any) -> tuple[datetime | None, str | None]:
    if not isinstance(text, str) or not text:
        return None, "reading has no timestamp"
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None, f"timestamp {text!r} is not ISO 8601"
    if when.tzinfo is None:
        return None, f"timestamp {text!r} has no time zone; send UTC ('Z') or an offset"
    return when, None


def _loinc(concept: CodeableConcept) -> str | None:
    for coding in concept.coding:
        if "loinc" in (coding.system or "").lower() and coding.code:
            return coding.code
    return None


def _fhir_readings(obs: Observation, device_id: str) -> list[Reading]:
    raw = obs.model_dump_json(exclude_none=True)[:500]
    device_ref = obs.device.reference if obs.device and obs.device.reference else ""
    dev = device_ref.split("/")[-1] if device_ref else device_id
    at, problem = _parse_time(obs.effectiveDateTime or obs.effectiveInstant)
    code = _loinc(obs.code)
    if code is None:
        return [Reading(dev, "", None, None, at, raw, "Observation has no LOINC code")]
    parts = []
    if code == BP_PANEL or obs.component:
        for comp in obs.component or []:
            quantity = comp.valueQuantity or Quantity()
            parts.append((_loinc(comp.code) or "", quantity.value, quantity.code or quantity.unit))
    else:
        quantity = obs.valueQuantity or Quantity()
        parts.append((code, quantity.value, quantity.code or quantity.unit))
    return [Reading(dev, c, v, u, at, raw, problem) for c, v, u in parts]


def _compact_readings(message: CompactMessage, device_id: str) -> list[Reading]:
    dev = message.device_id or device_id
    out = []
    for item in message.readings:
        code = NAME_TO_CODE.get(item.code, item.code)
        at, problem = _parse_time(item.at or item.time)
        out.append(Reading(dev, code, item.value, item.unit, at, item.model_dump_json(exclude_none=True)[:200],
                           problem))
    return out


def parse_payload(payload: Any, device_id: str = "") -> list[Reading]:
    """Validate one JSON document (FHIR or compact) as a whole, then turn it into readings.

    Raises InputError naming the first field that breaks the schema of its format (see
    :mod:`theralab.monitoring.streams.schemas`); a valid document yields readings whose clinical checks
    (unit, range, clock) happen per reading at ingestion.
    """
    if isinstance(payload, (bytes, str)):
        payload = load_json(payload)
    out: list[Reading] = []
    for message in validate_payload(payload):
        if isinstance(message, Observation):
            out.extend(_fhir_readings(message, device_id))
        elif isinstance(message, Bundle):
            for entry in message.entry:
                out.extend(_fhir_readings(entry.resource, device_id))
        else:
            out.extend(_compact_readings(message, device_id))
    return out


# ---------------------------------------------------------------- flood control

class RateLimiter:
    """Token bucket per device: ``burst`` readings at once, refilled at ``per_second``."""

    def __init__(self, per_second: float = 50.0, burst: float = 2000.0) -> None:
        self.per_second, self.burst = per_second, burst
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, device_id: str, n: int = 1) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._state.get(device_id, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.per_second)
            if tokens < n:
                self._state[device_id] = (tokens, now)
                return False
            self._state[device_id] = (tokens - n, now)
            return True


# ---------------------------------------------------------------- ingest

class Ingestor:
    """Validates, stores, scores and alerts; one instance serves the HTTP API and the MQTT client."""

    def __init__(self, limiter: RateLimiter | None = None, score: bool = True) -> None:
        self.limiter = limiter or RateLimiter()
        self.score = score
        self.counters = {"accepted": 0, "duplicates": 0, "quarantined": 0}
        self._lock = threading.Lock()

    def ingest(self, readings: list[Reading], *, device: Device, source: str = "http",
               now: datetime | None = None) -> IngestReport:
        """Store a batch from one authenticated device in one transaction."""
        now = now or utcnow()
        report = IngestReport()
        good: dict[tuple[str, str, datetime], dict[str, Any]] = {}
        bad: list[tuple[Reading, str]] = []
        flood = not self.limiter.allow(device.id, max(1, len(readings)))
        for reading in readings:
            try:
                value, unit = self._validate(reading, device, now, flood)
            except ValueError as exc:
                bad.append((reading, str(exc)))
                continue
            key = (device.id, reading.code, reading.at)
            if key in good:
                report.duplicates += 1
                continue
            good[key] = observation_values(
                patient_id=device.patient_id, device_id=device.id, code=reading.code, value=value, unit=unit,
                at=reading.at, received_at=now, transport=source, value_orig=float(reading.value),
                unit_orig=reading.unit)
        with session_scope() as session:
            for reading, reason in bad:
                quarantine(session, device_id=reading.device_id or device.id, code=reading.code or "",
                           raw=reading.raw, reason=reason, source=source)
                report.quarantined.append({"code": reading.code, "reason": reason})
            # insert-or-ignore: a reading already stored (or sent twice at once) is counted, never raises
            inserted = insert_readings(session, list(good.values()))
            report.duplicates += len(good) - inserted
            report.accepted = inserted
            if inserted and self.score:
                times = sorted({row["effective"] for row in good.values() if row["code"] in NEWS2_CODES})
                self._score(session, device.patient_id, now, report, times)
        with self._lock:
            self.counters["accepted"] += report.accepted
            self.counters["duplicates"] += report.duplicates
            self.counters["quarantined"] += len(report.quarantined)
        return report

    def _validate(self, reading: Reading, device: Device, now: datetime, flood: bool) -> tuple[float, str]:
        """The reading's value in its canonical unit; ValueError with the quarantine reason otherwise."""
        if flood:
            raise ValueError(f"device {device.id} exceeded {self.limiter.per_second:g} readings/s (flood); "
                             "reading dropped")
        if reading.problem:
            raise ValueError(reading.problem)
        if reading.device_id and reading.device_id != device.id:
            raise ValueError(f"reading names device {reading.device_id!r} but was sent by {device.id!r}")
        assert reading.at is not None
        if reading.at - now > FUTURE_TOLERANCE:
            raise ValueError(f"timestamp {reading.at.isoformat()} is in the future (device clock wrong?)")
        if now - reading.at > MAX_AGE:
            raise ValueError(f"timestamp {reading.at.isoformat()} is more than {MAX_AGE.days} days old")
        return normalise_reading(reading.code, reading.value, reading.unit)

    def _score(self, session: Session, patient_id: str, now: datetime, report: IngestReport,
               times: list[datetime]) -> None:
        from theralab.monitoring.streams.rules import evaluate_patient

        if not times:
            return
        session.flush()
        scores, alerts = evaluate_patient(session, patient_id, now, times=times)
        report.scores.extend(scores)
        report.alerts.extend(alerts)


def _clean(text: Any, limit: int) -> str:
    """Text that every database accepts: no NUL characters, no longer than its column."""
    return str(text).replace("\x00", "\ufffd")[:limit]


def quarantine(session: Session, *, device_id: str, raw: str | bytes, reason: str, source: str,
               code: str = "", message_ref: str | None = None) -> None:
    """Keep a refused message or reading with why (sanitised so that storing it cannot fail)."""
    if isinstance(raw, bytes):
        raw = raw[:2000].decode("utf-8", "replace")
    session.add(QuarantinedReading(device_id=_clean(device_id, 120), code=_clean(code, 20), raw=_clean(raw, 500),
                                   reason=_clean(reason, 2000), source=_clean(source, 10),
                                   message_ref=None if message_ref is None else _clean(message_ref, 200)))


__all__ = ["IngestReport", "Ingestor", "NEWS2_CODE", "RateLimiter", "Reading", "authenticate_device",
           "parse_payload", "quarantine", "register_device"]
