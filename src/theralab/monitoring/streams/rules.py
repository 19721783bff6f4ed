"""Rules that turn a patient's charted vitals into scores and alerts.

NEWS2 needs respiration rate, SpO2, systolic pressure, pulse and temperature; the score *for a
time point t* uses the newest value of each measured at or before t and within ``window`` (60
minutes) of it, assuming air and an alert patient unless a reading says otherwise (wearables
cannot observe oxygen therapy or new confusion, which the ward view states next to every
streamed score). Bands map to alerts: high (>= 7) -> severity high, medium (5-6) -> medium, a
single parameter scoring 3 -> low.

Scores are computed from the chart, not from the post: when readings for a time point arrive
in several posts (or late), every affected time point is recomputed from what is stored, the
stored score (a patient observation with SNOMED CT 1104051000000101, :mod:`.store`) is updated,
and each value it took is kept in :class:`~theralab.monitoring.streams.tables.ScoreRevision`
with when it was computed, so the history shows what was known when.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from theralab.monitoring.streams.store import chart, newest_time, stored_scores, upsert_scores
from theralab.monitoring.streams.tables import ScoreRevision
from theralab.monitoring.streams.vitals import NEWS2_CODE, VITALS
from theralab.runtime.alerts import raise_alert

NEWS2_FIELDS = {"respiratory_rate": "respiration_rate", "spo2": "spo2", "systolic_bp": "systolic_bp",
                "heart_rate": "pulse", "temperature": "temperature"}
NEWS2_CODES = {code for code, vital in VITALS.items() if vital.name in NEWS2_FIELDS}
EWS_DEVICE = "theralab-ews"  # computed scores are stored as readings of device 'theralab-ews/<patient>'
BAND_SEVERITY = {"high": "high", "medium": "medium", "low-medium": "low"}
MAX_RECOMPUTE = 500  # time points recomputed per batch at most (a late week of minute data is a job)


def _chart(session: Session, patient_id: str, start: datetime, end: datetime) -> list[tuple[str, float, datetime]]:
    return [(VITALS[code].name, value, at) for code, value, at in chart(session, patient_id, NEWS2_CODES, start, end)]


def _vitals_at_each(chart: list[tuple[str, float, datetime]], points: list[datetime],
                    window: timedelta) -> list[dict[str, float] | None]:
    """The NEWS2 inputs at each of ``points`` (sorted): per vital, the newest value at or before t.

    A value counts only when it was measured within ``window`` before t; when the newest one is
    older, so is every other. One sweep over the chart (sorted by time) for all points, so a late
    reading that makes hundreds of later time points be rescored costs one pass, not one per point.
    """
    newest: dict[str, tuple[float, datetime]] = {}
    out: list[dict[str, float] | None] = []
    i = 0
    for t in points:
        while i < len(chart) and chart[i][2] <= t:
            name, value, at = chart[i]
            newest[name] = (value, at)
            i += 1
        latest = {name: value for name, (value, at) in newest.items() if at >= t - window}
        if all(name in latest for name in NEWS2_FIELDS):
            out.append({field: latest[name] for name, field in NEWS2_FIELDS.items()})
        else:
            out.append(None)
    return out


def evaluate_patient(session: Session, patient_id: str, now: datetime, window: timedelta = timedelta(minutes=60),
                     times: list[datetime] | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Recompute NEWS2 at every time point the new readings touch, store it, and raise alerts.

    Args:
        session: the ingest transaction (the new readings are flushed into it).
        patient_id: whose chart.
        now: the server's time (stale time points, older than ``window``, do not alert).
        window: how old a vital may be and still count for a time point.
        times: the times of the readings just stored; None means "the newest time point".

    Returns:
        ``(scores, alerts)`` as dicts: one score per time point whose value was computed, and
        the alert raised for the newest of them when it is recent.
    """
    from theralab.monitoring.ews import news2

    device = f"{EWS_DEVICE}/{patient_id}"
    if times is None:
        newest = newest_time(session, patient_id, NEWS2_CODES, now - window)
        times = [newest] if newest else []
    if not times:
        return [], []
    times = [t.astimezone(UTC) for t in times]
    first, last = min(times), max(times)
    existing = stored_scores(session, patient_id, device, first, last + window)
    # every time point whose score may change: the new readings' times and stored scores after them
    points = sorted(set(times) | set(existing))[-MAX_RECOMPUTE:]
    chart = _chart(session, patient_id, points[0] - window, points[-1])
    scores = []
    changed: dict[datetime, float] = {}
    for t, vitals in zip(points, _vitals_at_each(chart, points, window), strict=True):
        if vitals is None:
            continue
        result = news2({**vitals, "consciousness": "A", "on_oxygen": False})
        total = float(result.total)
        previous = existing.get(t)
        if previous != total:
            changed[t] = total
            session.add(ScoreRevision(patient_id=patient_id, code=NEWS2_CODE, at=t, value=total,
                                      previous=previous, computed_at=now, inputs=vitals))
        scores.append({"patient_id": patient_id, "at": t.isoformat(), **result.to_dict(), "vitals": vitals,
                       "fhir": result.to_fhir_observation(patient_ref=f"Patient/{patient_id}", effective=t),
                       "_result": result})
    upsert_scores(session, patient_id=patient_id, device_id=device, values=changed, now=now)
    alerts = []
    newest = scores[-1] if scores else None
    if newest is not None and datetime.fromisoformat(newest["at"]) >= now - window:
        result = newest["_result"]
        severity = BAND_SEVERITY.get(result.band)
        if severity:
            alert, is_new = raise_alert(
                session, domain="monitoring", subject=patient_id, rule="news2", severity=severity,
                title=f"NEWS2 {result.total} ({result.band}): {result.response.get('clinical', '')}".strip(),
                evidence={"at": newest["at"], "news2": result.total, "parameters": result.parameters,
                          "vitals": newest["vitals"]},
                dedup_key=f"monitoring:news2:{patient_id}", now=now,
            )
            announced = [a["action"] for a in session.info.get("alert_announcements", [])
                         if a["alert"]["id"] == alert.id]
            alerts.append({"id": alert.id, "new": is_new, "severity": alert.severity, "status": alert.status,
                           "title": alert.title, "announced": announced[-1] if announced else None})
    for score in scores:
        del score["_result"], score["vitals"]
    return scores, alerts


def score_history(session: Session, patient_id: str, start: datetime | None = None,
                  end: datetime | None = None) -> list[dict[str, Any]]:
    """Every value each NEWS2 time point took, oldest first: what was known when."""
    query = select(ScoreRevision).where(ScoreRevision.patient_id == patient_id)
    if start:
        query = query.where(ScoreRevision.at >= start)
    if end:
        query = query.where(ScoreRevision.at < end)
    return [{"at": r.at.isoformat(), "value": r.value, "previous": r.previous,
             "computed_at": r.computed_at.isoformat(), "inputs": r.inputs}
            for r in session.scalars(query.order_by(ScoreRevision.at, ScoreRevision.id))]
