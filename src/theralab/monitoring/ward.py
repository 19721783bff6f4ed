"""The clinician's ward view and a patient's timeline, as plain data for the API and web pages.

Both read the patient's observations (:mod:`theralab.monitoring.streams.store`): a vital charted
in the record counts like a streamed one; the ward lists the patients with a device or a score.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from theralab.ehr.tables import ObservationRow as Obs
from theralab.monitoring.streams.store import CHART_CODES, chart
from theralab.monitoring.streams.tables import Device
from theralab.monitoring.streams.vitals import NEWS2_CODE, VITALS
from theralab.runtime.alerts import OPEN_STATES, Alert, list_alerts
from theralab.runtime.db import utcnow

SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}


def ward(session: Session) -> list[dict[str, Any]]:
    """One row per monitored patient: latest NEWS2, open alerts, last reading; sickest first."""
    # monitored: a device is registered for them (every streamed reading comes from one), or they
    # have a score; both are index lookups, never a scan of the whole record
    patients = {p for (p,) in session.execute(select(Device.patient_id).distinct())}
    patients |= {p for (p,) in session.execute(select(Obs.patient_id).where(Obs.code == NEWS2_CODE).distinct())}
    last_seen = dict(session.execute(
        select(Obs.patient_id, func.max(Obs.effective))
        .where(Obs.patient_id.in_(patients), Obs.code.in_(list(VITALS)), Obs.value.is_not(None))
        .group_by(Obs.patient_id)).all())
    news: dict[str, tuple[float, datetime]] = {}
    for patient, value, at in session.execute(
        select(Obs.patient_id, Obs.value, Obs.effective)
        .where(Obs.code == NEWS2_CODE, Obs.patient_id.in_(patients)).order_by(Obs.effective)
    ):
        news[patient] = (value, at)
    open_alerts: dict[str, list[Alert]] = {}
    for alert in session.scalars(select(Alert).where(Alert.domain == "monitoring", Alert.status.in_(OPEN_STATES))):
        open_alerts.setdefault(alert.subject, []).append(alert)
    rows = []
    for patient in patients:
        alerts = open_alerts.get(patient, [])
        worst = max((SEVERITY_RANK.get(a.severity, 0) for a in alerts), default=-1)
        score = news.get(patient)
        rows.append({
            "patient_id": patient,
            "news2": int(score[0]) if score else None,
            "news2_at": score[1].isoformat() if score else None,
            "open_alerts": len(alerts),
            "worst_severity": next((k for k, v in SEVERITY_RANK.items() if v == worst), None),
            "last_reading": last_seen[patient].isoformat() if patient in last_seen else None,
        })
    rows.sort(key=lambda r: (-(SEVERITY_RANK.get(r["worst_severity"] or "", -1)), -(r["news2"] or -1),
                             r["patient_id"]))
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
