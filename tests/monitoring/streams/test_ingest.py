"""Stream ingestion: parsing, units, plausibility, clocks, deduplication, floods, scoring, alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from theralab.ehr.tables import ObservationRow
from theralab.errors import AuthError, InputError
from theralab.monitoring.streams.ingest import (
    Ingestor,
    RateLimiter,
    authenticate_device,
    parse_payload,
)
from theralab.monitoring.streams.tables import QuarantinedReading
from theralab.runtime.alerts import Alert
from theralab.runtime.db import session_scope

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def _iso(minutes: float = 0) -> str:
    return (NOW + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def _count(model) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_device_tokens_are_checked(device):
    with session_scope() as session:
        with pytest.raises(AuthError, match="token"):
            authenticate_device(session, "w-1", "wrong")
        with pytest.raises(AuthError):
            authenticate_device(session, "unknown", "x")


def test_compact_and_fhir_payloads_parse_to_the_same_readings():
    compact = parse_payload({"device_id": "w-1", "readings": [
        {"code": "heart_rate", "value": 72, "unit": "/min", "at": _iso()}]})
    fhir = parse_payload({"resourceType": "Observation", "status": "final",
                          "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                          "valueQuantity": {"value": 72, "unit": "beats/minute", "code": "/min"},
                          "effectiveDateTime": _iso(), "device": {"reference": "Device/w-1"}})
    assert [(r.code, r.value, r.unit, r.at) for r in compact] == [(r.code, r.value, r.unit, r.at) for r in fhir]
    panel = parse_payload({"resourceType": "Bundle", "entry": [{"resource": {
        "resourceType": "Observation", "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
        "effectiveDateTime": _iso(), "component": [
            {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
             "valueQuantity": {"value": 120, "code": "mm[Hg]"}},
            {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
             "valueQuantity": {"value": 80, "code": "mm[Hg]"}}]}}]})
    assert [(r.code, r.value) for r in panel] == [("8480-6", 120), ("8462-4", 80)]
    with pytest.raises(InputError, match="not JSON"):
        parse_payload(b"\xff\xfe garbage")
    with pytest.raises(InputError, match="neither"):
        parse_payload({"hello": 1})


def test_units_are_normalised_and_impossible_values_quarantined(device):
    readings = parse_payload({"device_id": "w-1", "readings": [
        {"code": "8310-5", "value": 98.6, "unit": "[degF]", "at": _iso(-3)},
        {"code": "2339-0", "value": 5.5, "unit": "mmol/L", "at": _iso(-3)},
        {"code": "8867-4", "value": 400, "unit": "/min", "at": _iso(-2)},
        {"code": "8867-4", "value": 0, "unit": "/min", "at": _iso(-1)},
        {"code": "2708-6", "value": 120, "unit": "%", "at": _iso(-1)},
        {"code": "8867-4", "value": 70, "unit": "kg", "at": _iso(-1)},
        {"code": "8867-4", "value": 70, "unit": "/min", "at": _iso(60)},
        {"code": "8867-4", "value": 70, "unit": "/min", "at": "2026-11-27T08:00:00"},
        {"code": "1234-5", "value": 1, "at": _iso(-1)},
    ]})
    report = Ingestor(score=False).ingest(readings, device=device, now=NOW)
    assert report.accepted == 2 and report.duplicates == 0
    reasons = [q["reason"] for q in report.quarantined]
    assert len(reasons) == 7
    assert "impossible heart_rate 400" in reasons[0] and "impossible heart_rate 0" in reasons[1]
    assert "impossible spo2 120" in reasons[2] and "unit 'kg' is not accepted" in reasons[3]
    assert "in the future" in reasons[4] and "no time zone" in reasons[5] and "not a supported" in reasons[6]
    with session_scope() as session:
        stored = {r.code: (round(r.value, 4), r.unit) for r in session.scalars(select(ObservationRow))}
    assert stored == {"8310-5": (37.0, "Cel"), "2339-0": (round(5.5 * 180.156 / 10, 4), "mg/dL")}
    assert _count(QuarantinedReading) == 7


def test_resent_readings_are_deduplicated(device):
    body = {"device_id": "w-1", "readings": [
        {"code": "8867-4", "value": 70 + i, "unit": "/min", "at": _iso(-10 + i)} for i in range(5)]}
    ingestor = Ingestor(score=False)
    first = ingestor.ingest(parse_payload(body), device=device, now=NOW)
    again = ingestor.ingest(parse_payload(body), device=device, now=NOW)
    doubled = ingestor.ingest(parse_payload({"device_id": "w-1", "readings": body["readings"] * 2}),
                              device=device, now=NOW)
    assert (first.accepted, again.accepted, again.duplicates) == (5, 0, 5)
    assert (doubled.accepted, doubled.duplicates) == (0, 10)
    assert _count(ObservationRow) == 5
    assert ingestor.counters == {"accepted": 5, "duplicates": 15, "quarantined": 0}


def test_a_flooding_device_is_throttled_and_counted(device):
    ingestor = Ingestor(limiter=RateLimiter(per_second=0.001, burst=10), score=False)
    ok = ingestor.ingest(parse_payload({"device_id": "w-1", "readings": [
        {"code": "55423-8", "value": i, "at": _iso(-30 + i)} for i in range(10)]}), device=device, now=NOW)
    flooded = ingestor.ingest(parse_payload({"device_id": "w-1", "readings": [
        {"code": "55423-8", "value": 1, "at": _iso(-5)}]}), device=device, now=NOW)
    assert ok.accepted == 10
    assert flooded.accepted == 0 and "flood" in flooded.quarantined[0]["reason"]


def test_deteriorating_vitals_give_one_news2_alert_not_many(device):
    ingestor = Ingestor()
    # NEWS2: RR 25 (3), SpO2 91 (3), SBP 95 (2), HR 125 (2), T 38.5 (1) = 11 -> high
    for minute in range(3):
        vitals = [("9279-1", 25, "/min"), ("2708-6", 91, "%"), ("8480-6", 95, "mm[Hg]"),
                  ("8867-4", 125, "/min"), ("8310-5", 38.5, "Cel")]
        body = {"device_id": "w-1", "readings": [{"code": c, "value": v, "unit": u, "at": _iso(minute - 10)}
                                                 for c, v, u in vitals]}
        report = ingestor.ingest(parse_payload(body), device=device, now=NOW)
        assert report.scores[0]["total"] == 11 and report.scores[0]["band"] == "high"
        assert report.scores[0]["fhir"]["valueInteger"] == 11
    with session_scope() as session:
        alerts = list(session.scalars(select(Alert)))
        assert len(alerts) == 1
        assert alerts[0].severity == "high" and alerts[0].count == 3 and alerts[0].subject == "p-1"
        assert alerts[0].evidence[-1]["vitals"]["pulse"] == 125
        news = session.scalars(select(ObservationRow).where(ObservationRow.device_id == "theralab-ews/p-1")).all()
        assert [r.value for r in news] == [11.0, 11.0, 11.0]


def test_news2_for_a_time_point_is_recomputed_when_more_vitals_arrive(device):
    """Issue 20 finding 5: vitals of one time point in two posts; the stored score follows the chart."""
    from theralab.monitoring.streams.rules import score_history
    from theralab.monitoring.streams.vitals import NEWS2_CODE

    ingestor = Ingestor()

    def post(minutes, rows):
        body = {"device_id": "w-1", "readings": [{"code": c, "value": v, "unit": u, "at": _iso(minutes)}
                                                 for c, v, u in rows]}
        return ingestor.ingest(parse_payload(body), device=device, now=NOW)

    # an earlier, normal set 20 minutes before: RR 16, SpO2 97, SBP 120, HR 70, T 37 -> 0
    first = post(-30, [("9279-1", 16, "/min"), ("2708-6", 97, "%"), ("8480-6", 120, "mm[Hg]"),
                       ("8867-4", 70, "/min"), ("8310-5", 37.0, "Cel")])
    assert first.scores[0]["total"] == 0
    # at -10: RR 26 arrives first (3), the other four a moment later (SpO2 90: 3, SBP 88: 3, HR 135: 3, T 38.5: 1)
    partial = post(-10, [("9279-1", 26, "/min")])
    assert [s["total"] for s in partial.scores] == [3]
    complete = post(-10, [("2708-6", 90, "%"), ("8480-6", 88, "mm[Hg]"), ("8867-4", 135, "/min"),
                          ("8310-5", 38.5, "Cel")])
    assert [s["total"] for s in complete.scores] == [13]
    assert complete.alerts[0]["severity"] == "high"
    with session_scope() as session:
        stored = {r.effective: r.value for r in session.scalars(select(ObservationRow)
                                                         .where(ObservationRow.code == NEWS2_CODE))}
        history = score_history(session, "p-1")
    assert sorted(stored.values()) == [0.0, 13.0] and len(stored) == 2
    at_10 = [(h["value"], h["previous"]) for h in history if h["at"] == (NOW - timedelta(minutes=10)).isoformat()]
    assert at_10 == [(3.0, None), (13.0, 3.0)]  # what was known when


def test_a_late_reading_rescores_the_later_time_points_it_belongs_to(device):
    ingestor = Ingestor()
    vitals = [("9279-1", 16, "/min"), ("2708-6", 97, "%"), ("8480-6", 120, "mm[Hg]"), ("8867-4", 70, "/min"),
              ("8310-5", 37.0, "Cel")]
    for minute in (-30, -20):
        ingestor.ingest(parse_payload({"device_id": "w-1", "readings": [
            {"code": c, "value": v, "unit": u, "at": _iso(minute)} for c, v, u in vitals]}), device=device, now=NOW)
    # a heart rate of 135 measured at -25 arrives late: it is the newest HR as of -25 only (-20 has its own)
    late = ingestor.ingest(parse_payload({"device_id": "w-1", "readings": [
        {"code": "8867-4", "value": 135, "unit": "/min", "at": _iso(-25)}]}), device=device, now=NOW)
    assert [(s["at"][11:16], s["total"]) for s in late.scores] == [("07:35", 3), ("07:40", 0)]
    assert late.alerts == []  # the newest time point (07:40) is normal
