"""Rules that turn a patient's latest streamed vitals into scores and alerts.

NEWS2 needs respiration rate, SpO2, systolic pressure, pulse and temperature; it is computed when
all five were measured within the last ``window`` (60 minutes by default), assuming air and an
alert patient unless a reading says otherwise (wearables cannot observe oxygen therapy or new
confusion, which the ward view states next to every streamed score). Bands map to alerts:
high (>= 7) -> severity high, medium (5-6) -> medium, a single parameter scoring 3 -> low.
The score is stored back as a reading (SNOMED CT 1104051000000101) so the timeline shows it, and
is available as a FHIR Observation.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from theralab.monitoring.vitals import NEWS2_CODE
from theralab.runtime.alerts import raise_alert

NEWS2_FIELDS = {"respiratory_rate": "respiration_rate", "spo2": "spo2", "systolic_bp": "systolic_bp",
                "heart_rate": "pulse", "temperature": "temperature"}
EWS_DEVICE = "theralab-ews"  # computed scores are stored as readings of device 'theralab-ews/<patient>'
BAND_SEVERITY = {"high": "high", "medium": "medium", "low-medium": "low"}


def evaluate_patient(session: Session, patient_id: str, now: datetime,
                     window: timedelta = timedelta(minutes=60)) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Score the patient's latest vitals and raise alerts; returns (scores, alerts) as dicts."""
    from theralab.monitoring.ews import news2
    from theralab.monitoring.streams import insert_readings, latest_vitals

    latest = latest_vitals(session, patient_id, now - window)
    if not all(name in latest for name in NEWS2_FIELDS):
        return [], []
    vitals = {field: latest[name][0] for name, field in NEWS2_FIELDS.items()}
    at = max(latest[name][1] for name in NEWS2_FIELDS)
    result = news2({**vitals, "consciousness": "A", "on_oxygen": False})
    insert_readings(session, [{"patient_id": patient_id, "device_id": f"{EWS_DEVICE}/{patient_id}",
                               "code": NEWS2_CODE, "value": float(result.total), "unit": "{score}", "at": at,
                               "received_at": now, "source": "ews"}])
    score = {"patient_id": patient_id, "at": at.isoformat(), **result.to_dict(),
             "fhir": result.to_fhir_observation(patient_ref=f"Patient/{patient_id}", effective=at)}
    alerts = []
    severity = BAND_SEVERITY.get(result.band)
    if severity:
        alert, is_new = raise_alert(
            session, domain="monitoring", subject=patient_id, rule="news2", severity=severity,
            title=f"NEWS2 {result.total} ({result.band}): {result.response.get('clinical', '')}".strip(),
            evidence={"at": at.isoformat(), "news2": result.total, "parameters": result.parameters,
                      "vitals": vitals},
            dedup_key=f"monitoring:news2:{patient_id}", now=now,
        )
        announced = [a["action"] for a in session.info.get("alert_announcements", [])
                     if a["alert"]["id"] == alert.id]
        alerts.append({"id": alert.id, "new": is_new, "severity": alert.severity, "status": alert.status,
                       "title": alert.title, "announced": announced[-1] if announced else None})
    return [score], alerts
