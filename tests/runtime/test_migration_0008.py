"""Migration 0008: streamed vitals move from ``vital_readings`` into the patient observations and back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, inspect, select, text

from theralab.runtime import migrate
from theralab.runtime.db import normalise_url

T0 = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)


def _engine(url: str):
    return create_engine(normalise_url(url))


def _old_rows(url: str) -> None:
    """What a 0007 installation holds: a patient with a device, and a device whose patient was never imported."""
    engine = _engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO ehr_patients (id, deceased, updated_at) VALUES ('p-1', false, :t)"),
                     {"t": T0})
        for dev, pid in (("w-1", "p-1"), ("w-9", "ghost")):
            conn.execute(text("INSERT INTO monitoring_devices (id, patient_id, token_sha256, kind, active, created_at) "
                              "VALUES (:d, :p, 'x', 'wearable', true, :t)"), {"d": dev, "p": pid, "t": T0})
        rows = [("p-1", "w-1", "8867-4", 72.0, "/min", T0, "http"),
                ("p-1", "w-1", "8867-4", 75.0, "/min", T0 + timedelta(minutes=1), "http"),
                ("p-1", "theralab-ews/p-1", "1104051000000101", 3.0, "{score}", T0, "ews"),
                ("ghost", "w-9", "2708-6", 96.0, "%", T0, "mqtt")]
        for pid, dev, code, value, unit, at, src in rows:
            conn.execute(text("INSERT INTO vital_readings (patient_id, device_id, code, value, unit, at, received_at, "
                              "source) VALUES (:p, :d, :c, :v, :u, :a, :a, :s)"),
                         {"p": pid, "d": dev, "c": code, "v": value, "u": unit, "a": at, "s": src})
    engine.dispose()


def test_upgrade_moves_every_reading_and_downgrade_moves_them_back(db_url, monkeypatch, tmp_path):
    from theralab.ehr.tables import ObservationRow, PatientRow
    from theralab.monitoring.streams import Ingestor, parse_payload
    from theralab.monitoring.streams.store import reading_id
    from theralab.monitoring.streams.tables import Device
    from theralab.runtime.db import reset_engine, session_scope
    from theralab.settings import reset_settings

    monkeypatch.setenv("THERALAB_DATA_DIR", str(tmp_path / "tl"))
    monkeypatch.setenv("THERALAB_DATABASE_URL", db_url)
    reset_settings()
    migrate.upgrade(db_url, "0007_monitoring")
    _old_rows(db_url)
    migrate.upgrade(db_url)
    assert "vital_readings" not in inspect(_engine(db_url)).get_table_names()
    with session_scope() as session:
        moved = {o.id: o for o in session.scalars(select(ObservationRow))}
        ghost = session.get(PatientRow, "ghost")
        device = session.get(Device, "w-1")
        session.expunge(device)
    assert len(moved) == 4  # no reading lost
    hr = moved[reading_id("w-1", "8867-4", T0)]
    assert (hr.patient_id, hr.value, hr.unit, hr.source, hr.system, hr.effective) == (
        "p-1", 72.0, "/min", "stream:http", "http://loinc.org", T0)
    assert moved[reading_id("theralab-ews/p-1", "1104051000000101", T0)].source == "stream:ews"
    assert moved[reading_id("w-9", "2708-6", T0)].patient_id == "ghost"
    assert ghost is not None and ghost.source == "migration:0008_house"
    # a reading re-sent after the upgrade is still a duplicate of the moved row
    again = Ingestor(score=False).ingest(parse_payload({"device_id": "w-1", "readings": [
        {"code": "8867-4", "value": 72, "unit": "/min", "at": T0.isoformat()}]}), device=device, now=T0)
    assert (again.accepted, again.duplicates) == (0, 1)

    reset_engine()
    _downgrade(db_url)
    engine = _engine(db_url)
    with engine.connect() as conn:
        back = conn.execute(text("SELECT patient_id, device_id, code, value, source FROM vital_readings "
                                 "ORDER BY device_id, code, value")).all()
        left = conn.execute(text("SELECT count(*) FROM ehr_observations")).scalar()
    engine.dispose()
    assert [tuple(r) for r in back] == [
        ("p-1", "theralab-ews/p-1", "1104051000000101", 3.0, "ews"), ("p-1", "w-1", "8867-4", 72.0, "http"),
        ("p-1", "w-1", "8867-4", 75.0, "http"), ("ghost", "w-9", "2708-6", 96.0, "mqtt")]
    assert left == 0
    reset_engine()
    reset_settings()


def _downgrade(url: str) -> None:
    from alembic import command

    command.downgrade(migrate.alembic_config(url), "0007_monitoring")
