"""The one chart: streamed vital signs are the patient's observations (``ehr_observations``).

Why one store: a heart rate from a wearable and a heart rate charted by a nurse (or imported
from FHIR) are the same kind of fact. Keeping them in one table, LOINC-coded, in the canonical
UCUM unit of :mod:`theralab.ehr.units` and tied to the patient by a foreign key, means the
patient page's latest values, trial matching, the assistant, NEWS2 and the ward view all read
the same rows, and deleting a patient deletes their streams too.

How a streamed row is told apart and kept unique:

* ``source`` is ``stream:<transport>`` (``stream:http``, ``stream:mqtt``, ``stream:ews`` for the
  computed NEWS2 scores), so imports and streams can be counted apart;
* the row id is derived from (device, code, time in UTC) by :func:`reading_id`, so a device that
  re-sends a reading (MQTT QoS 1 redelivery, an HTTP retry) hits the primary key and is counted as
  a duplicate, never stored twice, on SQLite and PostgreSQL alike (``ON CONFLICT DO NOTHING``);
* ``device_id`` names the device, ``received_at`` when the server took it, ``value_orig`` and
  ``unit_orig`` what the device sent.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from theralab.ehr.tables import STREAM_PREFIX, ObservationRow, streamed
from theralab.ehr.units import loinc_table
from theralab.monitoring.streams.tables import QuarantinedReading
from theralab.monitoring.streams.vitals import NAME_TO_CODE, NEWS2_CODE, VITALS

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
NEWS2_DISPLAY = "National Early Warning Score 2 (NEWS2) total score"
#: the codes the monitoring views chart: every streamed vital sign and the NEWS2 score
CHART_CODES = (*VITALS, NEWS2_CODE)

Obs = ObservationRow


def stream_source(transport: str) -> str:
    """The ``source`` value of a row that came through ``transport`` (http, mqtt, ews)."""
    return f"{STREAM_PREFIX}{transport}"


def is_streamed() -> ColumnElement[bool]:
    """SQL condition: the row came from a device stream or the score engine, not an import (indexed)."""
    return streamed()


def reading_id(device_id: str, code: str, at: datetime) -> str:
    """The row id of one device's reading of ``code`` at ``at`` (same instant, same id)."""
    key = f"{device_id}\x1f{code}\x1f{at.astimezone(UTC).isoformat()}"
    return "vs-" + hashlib.sha256(key.encode()).hexdigest()[:40]


def observation_values(*, patient_id: str, device_id: str, code: str, value: float, unit: str, at: datetime,
                       received_at: datetime, transport: str, value_orig: float | None = None,
                       unit_orig: str | None = None) -> dict[str, Any]:
    """The column values of one streamed reading (or computed score) as a patient observation."""
    if code == NEWS2_CODE:
        system, display, category = SNOMED, NEWS2_DISPLAY, "survey"
    else:
        info = loinc_table().get(code)
        system = LOINC
        display = info.display if info else (VITALS[code].name if code in VITALS else code)
        category = (info.category if info else None) or "vital-signs"
    return {"id": reading_id(device_id, code, at), "patient_id": patient_id, "device_id": device_id,
            "system": system, "code": code, "display": display, "category": category, "status": "final",
            "effective": at, "value": value, "unit": unit,
            "value_orig": value if value_orig is None else value_orig,
            "unit_orig": unit if unit_orig is None else unit_orig,
            "unit_ok": True, "source": stream_source(transport), "received_at": received_at,
            "updated_at": received_at}


def _insert(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def insert_readings(session: Session, rows: list[dict[str, Any]], chunk: int = 500) -> int:
    """Insert readings (from :func:`observation_values`), skipping any already stored.

    Returns how many rows were really inserted. Uses the dialect's ``ON CONFLICT DO NOTHING`` on
    the derived id, so two requests carrying the same readings at the same moment give one stored
    copy and a duplicate count, never an integrity error.
    """
    if not rows:
        return 0
    # one cached statement run with many parameter sets (SQLAlchemy batches them into multi-row
    # INSERTs itself), instead of a VALUES list that is compiled again for every batch
    statement = _insert(session)(Obs).on_conflict_do_nothing(index_elements=["id"]).returning(Obs.id)
    inserted = 0
    for start in range(0, len(rows), chunk):
        inserted += len(session.execute(statement, rows[start:start + chunk]).all())
    return inserted


def upsert_scores(session: Session, *, patient_id: str, device_id: str, values: dict[datetime, float],
                  now: datetime) -> None:
    """Store NEWS2 scores (time point -> value), replacing older values (race-safe: ON CONFLICT UPDATE).

    One cached statement with a parameter set per time point, however many a late reading rescored.
    """
    if not values:
        return
    rows = [observation_values(patient_id=patient_id, device_id=device_id, code=NEWS2_CODE, value=value,
                               unit="{score}", at=at, received_at=now, transport="ews")
            for at, value in values.items()]
    statement = _insert(session)(Obs)
    session.execute(statement.on_conflict_do_update(index_elements=["id"], set_={
        "value": statement.excluded.value, "value_orig": statement.excluded.value_orig,
        "received_at": statement.excluded.received_at, "updated_at": statement.excluded.updated_at}), rows)


def stored_scores(session: Session, patient_id: str, device_id: str, first: datetime,
                  last: datetime) -> dict[datetime, float]:
    """The NEWS2 values stored by the score engine ``device_id`` for time points in [first, last].

    Asked by patient too, so the (patient, code, time) index answers it, not a scan of every score.
    """
    rows = session.execute(select(Obs.effective, Obs.value).where(
        Obs.patient_id == patient_id, Obs.code == NEWS2_CODE, Obs.device_id == device_id,
        Obs.effective >= first, Obs.effective <= last))
    return {at: value for at, value in rows}


def chart(session: Session, patient_id: str, codes: Any, start: datetime | None = None,
          end: datetime | None = None) -> list[tuple[str, float, datetime]]:
    """``(code, value, time)`` of a patient's numeric observations of ``codes``, oldest first.

    Every source counts: a respiratory rate charted by a nurse scores in NEWS2 like a streamed one.
    Rows whose unit could not be converted (``value`` NULL) never count.
    """
    query = select(Obs.code, Obs.value, Obs.effective).where(
        Obs.patient_id == patient_id, Obs.code.in_(list(codes)), Obs.value.is_not(None), Obs.effective.is_not(None))
    if start is not None:
        query = query.where(Obs.effective >= start)
    if end is not None:
        query = query.where(Obs.effective <= end)
    return [(c, v, at) for c, v, at in session.execute(query.order_by(Obs.effective, Obs.received_at, Obs.id))]


def newest_time(session: Session, patient_id: str, codes: Any, since: datetime) -> datetime | None:
    """When the newest observation of ``codes`` since ``since`` was made (None when there is none)."""
    return session.scalar(select(func.max(Obs.effective)).where(
        Obs.patient_id == patient_id, Obs.code.in_(list(codes)), Obs.value.is_not(None), Obs.effective >= since))


def latest_vitals(session: Session, patient_id: str, since: datetime) -> dict[str, tuple[float, datetime]]:
    """The newest value of each vital for a patient since ``since`` (name -> (value, time))."""
    out: dict[str, tuple[float, datetime]] = {}
    for code, value, at in chart(session, patient_id, VITALS, start=since):
        out[VITALS[code].name] = (value, at)
    return out


def readings_frame(session: Session, patient_id: str, code: str | None = None,
                   start: datetime | None = None, end: datetime | None = None) -> list[dict[str, Any]]:
    """A patient's numeric observations in a time range, streamed or charted (timelines, detectors, exports).

    ``code`` is a LOINC code or a vital's name (``heart_rate``); ``end`` is exclusive.
    """
    query = select(Obs).where(Obs.patient_id == patient_id, Obs.value.is_not(None), Obs.effective.is_not(None))
    if code:
        query = query.where(Obs.code == NAME_TO_CODE.get(code, code))
    if start:
        query = query.where(Obs.effective >= start)
    if end:
        query = query.where(Obs.effective < end)
    return [{"code": r.code, "value": r.value, "unit": r.unit, "at": r.effective.isoformat(), "device_id": r.device_id}
            for r in session.scalars(query.order_by(Obs.effective, Obs.id))]


def ingest_totals(session: Session) -> dict[str, dict[str, int]]:
    """Readings stored and messages/readings quarantined per transport, from the database.

    Why the database: MQTT ingestion runs in its own process (``theralab monitor serve``), so
    the API server's in-memory counters never saw it; the tables are shared by every process.
    Computed scores (source ``ews``) are listed apart from device readings. The count reads the
    partial index ``ix_ehr_observations_streamed`` (streamed rows only), never the imported rows:
    its cost follows the number of streamed readings, not the size of the chart.
    """
    stored = {src.removeprefix(STREAM_PREFIX): n for src, n in session.execute(
        select(Obs.source, func.count()).where(is_streamed()).group_by(Obs.source)).all()}
    refused = dict(session.execute(select(QuarantinedReading.source, func.count())
                                   .group_by(QuarantinedReading.source)).all())
    sources = sorted({"http", "mqtt"} | set(stored) | set(refused))
    return {src: {"stored": int(stored.get(src, 0)), "quarantined": int(refused.get(src, 0))} for src in sources}


__all__ = ["CHART_CODES", "chart", "ingest_totals", "insert_readings", "is_streamed", "latest_vitals",
           "newest_time", "observation_values", "reading_id", "readings_frame", "stored_scores", "stream_source",
           "upsert_scores"]
