"""The clinician's ward board and a patient's timeline, as plain data for the API and web pages.

Both read the patient's observations (:mod:`theralab.monitoring.streams.store`): a vital charted
in the record counts like a streamed one; the ward lists the patients with a device or a score.

Why the board carries more than the newest score: a nurse scanning the ward needs who (name, age,
bed), how sick (NEWS2 and its band), which way (the recent trend), how fresh (last reading) and what
is waiting (open alerts). When the open alert was raised at another score than the one now shown,
the row says so ("alert raised at NEWS2 7 at 14:02; now 9") instead of leaving two numbers that
seem to disagree.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from theralab.ehr.tables import ObservationRow as Obs
from theralab.monitoring.streams.store import CHART_CODES, chart
from theralab.monitoring.streams.tables import Device, ScoreRevision
from theralab.monitoring.streams.vitals import NEWS2_CODE, VITALS
from theralab.runtime.alerts import OPEN_STATES, Alert, list_alerts
from theralab.runtime.db import utcnow

SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}
TREND_HOURS = 6.0
#: NEWS2 aggregate thresholds of the RCP 2017 chart: (lowest score of the band, band).
NEWS2_BANDS = ((7, "high"), (5, "medium"), (1, "low"), (0, "zero"))
#: Band limits drawn on timelines: (from, to, band) in score points.
NEWS2_BAND_LIMITS = ((0, 0.5, "zero"), (0.5, 4.5, "low"), (4.5, 6.5, "medium"), (6.5, 20, "high"))


def news2_band(total: float | None, single_parameter_three: bool = False) -> str | None:
    """The NEWS2 band of an aggregate score: zero, low, low-medium (a single parameter scored 3), medium, high."""
    if total is None:
        return None
    band = next(name for floor, name in NEWS2_BANDS if total >= floor)
    if band == "low" and single_parameter_three:
        return "low-medium"
    return band


def _severity_of(score: float) -> str:
    return {"high": "high", "medium": "medium"}.get(news2_band(score) or "", "low")


def _single_three(inputs: dict[str, Any] | None) -> bool:
    """Whether any parameter of a stored score's inputs scored 3 (recomputed by the one NEWS2 function)."""
    if not inputs:
        return False
    from theralab.monitoring.ews import news2

    try:
        result = news2({**inputs, "consciousness": "A", "on_oxygen": False})
    except Exception:  # noqa: BLE001 - old or partial inputs: fall back to the aggregate band
        return False
    return any(v == 3 for v in result.parameters.values())


def raised_at(alert: Alert) -> dict[str, Any] | None:
    """The evidence of the trigger that gave a NEWS2 alert its present severity (its title's score).

    An alert keeps its first score in its title while later triggers add evidence; when it was
    raised to a worse severity, the title changed to that trigger's score.
    """
    evidence = [e for e in alert.evidence or [] if isinstance(e, dict) and e.get("news2") is not None]
    if alert.rule != "news2" or not evidence:
        return None
    return next((e for e in evidence if _severity_of(float(e["news2"])) == alert.severity), evidence[0])


def _alert_note(alert: Alert, news2: float | None, news2_at: datetime | None) -> dict[str, Any] | None:
    """What the open NEWS2 alert was raised at, and a sentence when that differs from the score shown."""
    raised = raised_at(alert)
    if raised is None:
        return None
    score, at = int(raised["news2"]), raised.get("at")
    note = {"alert_id": alert.id, "severity": alert.severity, "raised_news2": score, "raised_at": at,
            "text": None}
    if news2 is not None and int(news2) != score:
        when = at[11:16] if isinstance(at, str) and len(at) >= 16 else "?"
        now_at = news2_at.strftime("%H:%M") if news2_at else "?"
        note["text"] = (f"alert raised at NEWS2 {score} at {when} UTC; now {int(news2)} (at {now_at} UTC)"
                        + (" - the alert keeps its first score; the board shows the newest"
                           if int(news2) < score else ""))
    return note


def _bed_key(location: str | None) -> tuple[str, int, str]:
    """Beds in natural order ("bed 2" before "bed 10"); patients without a location last."""
    import re

    if not location:
        return ("~", 0, "")
    match = re.search(r"(\d+)\s*$", location)
    return (location[: match.start()] if match else location, int(match.group(1)) if match else 0, location)


def ward(session: Session, now: datetime | None = None, trend_hours: float = TREND_HOURS) -> list[dict[str, Any]]:
    """One row per monitored patient, sickest first.

    Each row: identity (name, age, sex, MRN, bed or location from the patient's device), the newest
    NEWS2 with its band, the scores of the last ``trend_hours`` and the change over them, the last
    reading, the open alerts with the worst severity, and ``alert_note`` when the open NEWS2
    alert was raised at another score than the newest.
    """
    from theralab.ehr.header import patient_headers

    now = now or utcnow()
    devices: dict[str, Device] = {}
    for device in session.scalars(select(Device).order_by(Device.created_at)):
        if device.active or device.patient_id not in devices:
            devices[device.patient_id] = device
    # monitored: a device is registered for them (every streamed reading comes from one), or they
    # have a score; both are index lookups, never a scan of the whole record
    patients = set(devices) | {p for (p,) in session.execute(
        select(Obs.patient_id).where(Obs.code == NEWS2_CODE).distinct())}
    last_seen = dict(session.execute(
        select(Obs.patient_id, func.max(Obs.effective))
        .where(Obs.patient_id.in_(patients), Obs.code.in_(list(VITALS)), Obs.value.is_not(None))
        .group_by(Obs.patient_id)).all())
    news: dict[str, tuple[float, datetime]] = {}
    newest = (select(Obs.patient_id, func.max(Obs.effective).label("at"))
              .where(Obs.code == NEWS2_CODE, Obs.patient_id.in_(patients)).group_by(Obs.patient_id).subquery())
    for patient, value, at in session.execute(
        select(Obs.patient_id, Obs.value, Obs.effective)
        .join(newest, and_(Obs.patient_id == newest.c.patient_id, Obs.effective == newest.c.at))
        .where(Obs.code == NEWS2_CODE)
    ):
        news[patient] = (value, at)
    trend: dict[str, list[tuple[datetime, float]]] = {}
    since = now - timedelta(hours=trend_hours)
    for patient, value, at in session.execute(
        select(Obs.patient_id, Obs.value, Obs.effective)
        .where(Obs.code == NEWS2_CODE, Obs.patient_id.in_(patients), Obs.effective >= since).order_by(Obs.effective)
    ):
        trend.setdefault(patient, []).append((at, value))
    inputs: dict[tuple[str, datetime], dict[str, Any]] = {}
    latest_points = [(p, at) for p, (_, at) in news.items()]
    if latest_points:
        for rev in session.scalars(select(ScoreRevision).where(
                ScoreRevision.code == NEWS2_CODE, ScoreRevision.patient_id.in_([p for p, _ in latest_points]),
                ScoreRevision.at.in_([at for _, at in latest_points])).order_by(ScoreRevision.id)):
            inputs[(rev.patient_id, rev.at)] = rev.inputs
    open_alerts: dict[str, list[Alert]] = {}
    for alert in session.scalars(select(Alert).where(Alert.domain == "monitoring", Alert.status.in_(OPEN_STATES))
                                 .order_by(Alert.id)):
        open_alerts.setdefault(alert.subject, []).append(alert)
    heads = patient_headers(session, sorted(patients), now.date())
    rows = []
    for patient in patients:
        alerts = open_alerts.get(patient, [])
        worst = max((SEVERITY_RANK.get(a.severity, 0) for a in alerts), default=-1)
        score = news.get(patient)
        value, at = (score[0], score[1]) if score else (None, None)
        points = trend.get(patient, [])
        change = None
        if value is not None and points:
            earlier = [v for t, v in points if t <= at - timedelta(hours=1)] or [points[0][1]]
            change = int(value - earlier[-1]) if len(points) > 1 else 0
        news_alert = next((a for a in sorted(alerts, key=lambda a: -SEVERITY_RANK.get(a.severity, 0))
                           if a.rule == "news2"), None)
        head = heads.get(patient)
        device = devices.get(patient)
        rows.append({
            "patient_id": patient,
            "name": head.name if head else None,
            "age": head.age if head else None,
            "sex": head.sex if head else None,
            "mrn": head.mrn if head else None,
            "location": device.location if device else None,
            "news2": int(value) if value is not None else None,
            "news2_at": at.isoformat() if at else None,
            "band": news2_band(value, _single_three(inputs.get((patient, at)))) if at else None,
            "trend": [{"t": t.isoformat(), "v": v} for t, v in points],
            "change": change,
            "open_alerts": len(alerts),
            "worst_severity": next((k for k, v in SEVERITY_RANK.items() if v == worst), None),
            "alert_note": _alert_note(news_alert, value, at) if news_alert else None,
            "last_reading": last_seen[patient].isoformat() if patient in last_seen else None,
            "last_reading_minutes": (int((now - last_seen[patient]).total_seconds() // 60)
                                     if patient in last_seen else None),
        })
    rows.sort(key=lambda r: (-(SEVERITY_RANK.get(r["worst_severity"] or "", -1)), -(r["news2"] or -1),
                             _bed_key(r["location"]), r["name"] or "", r["patient_id"]))
    return rows


def timeline(session: Session, patient_id: str, hours: float = 24.0, end: datetime | None = None) -> dict[str, Any]:
    """A patient's vitals per code, NEWS2 and alerts over the last ``hours`` (for plots)."""
    end = end or utcnow()
    start = end - timedelta(hours=hours)
    series: dict[str, dict[str, list[Any]]] = {}
    for code, value, at in chart(session, patient_id, CHART_CODES, start, end):
        name = "news2" if code == NEWS2_CODE else (VITALS[code].name if code in VITALS else code)
        entry = series.setdefault(name, {"t": [], "v": []})
        entry["t"].append(at.isoformat())
        entry["v"].append(value)
    alerts = [a.to_dict() for a in list_alerts(session, domain="monitoring", subject=patient_id)]
    return {"patient_id": patient_id, "start": start.isoformat(), "end": end.isoformat(), "series": series,
            "alerts": alerts}
