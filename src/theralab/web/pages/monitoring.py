"""Monitoring pages: the ward view (sickest first, live), a patient's timeline, the alert inbox."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from theralab.monitoring.ward import timeline, ward
from theralab.privacy import careteam
from theralab.privacy.auth import require_role
from theralab.runtime import alerts as alert_store
from theralab.runtime.db import session_scope
from theralab.web.pages import WebUser
from theralab.web.templating import mark_built, render

router = APIRouter()
mark_built("monitoring")


@router.get("/monitoring", response_class=HTMLResponse)
def ward_page(request: Request, user: WebUser, severity: str = "", status: str = "open", patient: str = "",
              cursor: int | None = None) -> HTMLResponse:
    """The ward and its alert inbox, one page of 25 at a time with filters (severity, status, patient)."""
    require_role(set(user.roles), "clinician", "researcher")
    with session_scope() as session:
        rows = careteam.keep_visible(session, user, ward(session))
        visible = user.visible_patients(session)
        page = alert_store.page_alerts(session, domain="monitoring", severity=severity or None,
                                       status=status or None, subject=patient or None, cursor=cursor, limit=25,
                                       hidden_subjects=None if visible is None else select(alert_store.Alert.subject)
                                       .where(alert_store.Alert.subject.not_in(list(visible))))
        inbox = [a.to_dict() for a in page["items"]]
    user.audit("monitoring.ward", "Ward", patient or "all")
    filters = {"severity": severity, "status": status, "patient": patient}
    next_url = None
    if page["next_cursor"]:
        next_url = "/monitoring?" + urlencode({**filters, "cursor": page["next_cursor"]})
    return render(request, "monitoring_ward.html", {"rows": rows, "alerts": inbox, "total": page["total"],
                                                    "filters": filters, "next_url": next_url,
                                                    "severities": alert_store.SEVERITIES})


@router.get("/monitoring/patients/{patient_id}", response_class=HTMLResponse)
def patient_page(patient_id: str, request: Request, user: WebUser, hours: float = 24.0) -> HTMLResponse:
    require_role(set(user.roles), "clinician", "researcher")
    with session_scope() as session:
        user.require_patient(session, patient_id)
        data = timeline(session, patient_id, hours)
    user.audit("monitoring.timeline", "Patient", patient_id)
    return render(request, "monitoring_patient.html", {"data": data, "data_json": json.dumps(data)})


@router.post("/monitoring/alerts/{alert_id}/{action}")
def alert_action(alert_id: int, action: str, user: WebUser, next: str = Form("/monitoring"),
                 note: str = Form("")) -> Response:
    require_role(set(user.roles), "clinician")
    with session_scope() as session:
        alert = session.get(alert_store.Alert, alert_id)
        if alert is not None and alert.domain == "monitoring":  # care teams: only alerts about own patients
            user.require_patient(session, alert.subject)
        if action == "acknowledge":
            alert_store.acknowledge(session, alert_id, user.username, note)
        elif action == "resolve":
            alert_store.resolve(session, alert_id, user.username, note)
    user.audit(f"alert.{action}", "Alert", str(alert_id))
    return RedirectResponse(next if next.startswith("/") and not next.startswith("//") else "/monitoring",
                            status_code=303)
