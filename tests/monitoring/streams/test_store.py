"""One vital-signs store: streamed readings are the patient's observations (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from theralab.ehr.fhir import import_resources
from theralab.ehr.patients import latest_observations, load_patient
from theralab.ehr.tables import ObservationRow, PatientRow
from theralab.monitoring.streams import ingest_totals, readings_frame
from theralab.monitoring.streams.ingest import Ingestor, authenticate_device, parse_payload, register_device
from theralab.monitoring.streams.store import reading_id
from theralab.monitoring.streams.tables import Device
from theralab.monitoring.streams.vitals import NEWS2_CODE
from theralab.monitoring.ward import timeline, ward
from theralab.runtime.db import session_scope

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def _iso(minutes: float) -> str:
    return (NOW + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def _charted(code: str, value: float, unit: str, minutes: float, oid: str) -> dict:
    """A vital sign charted in the record (imported as FHIR), not streamed."""
    return {"resourceType": "Observation", "id": oid, "status": "final", "subject": {"reference": "Patient/p-1"},
            "category": [{"coding": [{"code": "vital-signs"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "valueQuantity": {"value": value, "unit": unit, "code": unit}, "effectiveDateTime": _iso(minutes)}


@pytest.fixture
def device(tl_env_any_db):
    with session_scope() as session:
        import_resources([{"resourceType": "Patient", "id": "p-1"},
                          _charted("9279-1", 24, "/min", -10, "rr-charted"),
                          _charted("8867-4", 66, "/min", -600, "hr-charted"),
                          _charted("4548-4", 6.1, "%", -6000, "a1c")], session)
        token = register_device(session, "w-1", "p-1")
    with session_scope() as session:
        dev = authenticate_device(session, "w-1", token)
        session.expunge(dev)
    return dev


def _post(device, rows, minutes):
    body = {"device_id": "w-1", "readings": [{"code": c, "value": v, "unit": u, "at": _iso(minutes)}
                                             for c, v, u in rows]}
    return Ingestor().ingest(parse_payload(body), device=device, now=NOW)


def test_streamed_readings_are_coded_patient_observations(device):
    report = _post(device, [("8867-4", 72, "/min"), ("8310-5", 98.6, "[degF]")], -5)
    assert report.accepted == 2
    with session_scope() as session:
        hr = session.get(ObservationRow, reading_id("w-1", "8867-4", NOW - timedelta(minutes=5)))
        temp = session.scalar(select(ObservationRow).where(ObservationRow.code == "8310-5"))
    assert (hr.patient_id, hr.system, hr.category, hr.source, hr.device_id) == (
        "p-1", "http://loinc.org", "vital-signs", "stream:http", "w-1")
    assert hr.display == "Heart rate" and hr.received_at == NOW
    # canonical unit through ehr.units, and what the device sent
    assert (round(temp.value, 6), temp.unit, temp.value_orig, temp.unit_orig) == (37.0, "Cel", 98.6, "[degF]")


def test_latest_observations_show_streamed_and_charted_vitals(device):
    _post(device, [("8867-4", 71, "/min")], -30)
    _post(device, [("8867-4", 88, "/min")], -2)
    with session_scope() as session:
        latest = latest_observations(session, "p-1")
        record = load_patient(session, "p-1")
    assert (latest["8867-4"].value, latest["8867-4"].device_id) == (88.0, "w-1")  # newer than the charted 66
    assert latest["9279-1"].value == 24.0 and latest["4548-4"].value == 6.1  # charted values stay
    assert record.latest_values()["8867-4"].value == 88.0
    # the record carries the newest streamed reading per code, not the whole stream
    assert sorted(o.value for o in record.observations_for("8867-4")) == [66.0, 88.0]


def test_news2_scores_the_chart_whatever_the_source(device):
    """A respiratory rate charted at -10 (24/min: 2 points) counts with four streamed vitals."""
    report = _post(device, [("2708-6", 97, "%"), ("8480-6", 120, "mm[Hg]"), ("8867-4", 70, "/min"),
                            ("8310-5", 37.0, "Cel")], -10)
    assert [s["total"] for s in report.scores] == [2]
    with session_scope() as session:
        score = session.scalar(select(ObservationRow).where(ObservationRow.code == NEWS2_CODE))
        rows = ward(session)
        line = timeline(session, "p-1", hours=1, end=NOW)
        frame = readings_frame(session, "p-1", "respiratory_rate")
        totals = ingest_totals(session)
    assert (score.system, score.unit, score.source, score.patient_id) == (
        "http://snomed.info/sct", "{score}", "stream:ews", "p-1")
    assert rows[0]["patient_id"] == "p-1" and rows[0]["news2"] == 2
    assert line["series"]["respiratory_rate"]["v"] == [24.0] and line["series"]["news2"]["v"] == [2.0]
    assert [(r["value"], r["device_id"]) for r in frame] == [(24.0, None)]
    assert totals["http"]["stored"] == 4 and totals["ews"]["stored"] == 1


def test_deleting_a_patient_deletes_their_streams_and_devices(device):
    _post(device, [("8867-4", 72, "/min")], -5)
    with session_scope() as session:
        session.execute(delete(PatientRow).where(PatientRow.id == "p-1"))
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(ObservationRow)) == 0
        assert session.get(Device, "w-1") is None


def test_ingest_totals_count_streamed_rows_from_their_partial_index(device):
    """Issue 17: the statistics read ``ix_ehr_observations_streamed``, never a scan of the whole chart."""
    from collections import Counter

    from sqlalchemy import event, text

    from theralab.ehr.fhir.ledger import ensure_planner_stats
    from theralab.runtime.db import get_engine

    _post(device, [("2708-6", 97, "%"), ("8480-6", 120, "mm[Hg]"), ("8867-4", 70, "/min"), ("8310-5", 37.0, "Cel")], -3)
    with session_scope() as session:  # a large imported chart beside a few streamed readings
        series = ("generate_series(1, 20000) g" if session.get_bind().dialect.name == "postgresql" else
                  "(WITH RECURSIVE c(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM c WHERE g < 20000) SELECT g FROM c)")
        rows = f"SELECT 'imp' || g, 'p-1', '8867-4', 'export.ndjson', CURRENT_TIMESTAMP, true FROM {series}"
        cols = "(id, patient_id, code, source, updated_at, unit_ok)"
        session.execute(text(f"INSERT INTO ehr_observations {cols} {rows}"))
        ensure_planner_stats(session)  # PostgreSQL: statistics, as an import leaves them
    seen: list[tuple[str, object]] = []

    def spy(conn, cursor, stmt, params, context, many):  # noqa: ANN001, ANN202
        if "GROUP BY ehr_observations.source" in stmt:
            seen.append((stmt, params))

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", spy)
    try:
        with session_scope() as session:
            totals = ingest_totals(session)
            everything = Counter(s.removeprefix("stream:") for s in session.scalars(select(ObservationRow.source))
                                 if s and s.startswith("stream:"))
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    assert {k: v["stored"] for k, v in totals.items() if v["stored"]} == dict(everything) == {"http": 4, "ews": 1}
    (stmt, params), = seen
    pg = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        plan = "\n".join(str(r[-1]) for r in conn.exec_driver_sql(("EXPLAIN " if pg else "EXPLAIN QUERY PLAN ") + stmt,
                                                                  params))
    assert "ix_ehr_observations_streamed" in plan, plan
    assert ("Seq Scan" not in plan) if pg else ("SCAN ehr_observations\n" not in plan + "\n"), plan
