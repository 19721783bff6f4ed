"""Patient pages: the patient list (searchable) and one patient's record (clinician or researcher; audited)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from theralab.privacy.auth import require_role
from theralab.runtime.db import session_scope
from theralab.web.pages import WebUser
from theralab.web.templating import mark_built, render

router = APIRouter()
mark_built("ehr")
PAGE_SIZE = 50


@router.get("/ehr", response_class=HTMLResponse)
def patients_page(request: Request, user: WebUser, offset: int = Query(0, ge=0, le=10**9),
                  q: str = Query("", max_length=200)) -> HTMLResponse:
    """Search by name, MRN or id; one page of ``PAGE_SIZE`` patients at a time."""
    from theralab.ehr.patients import count_patients, list_patients

    require_role(set(user.roles), "clinician", "researcher")
    query = q.strip()
    with session_scope() as session:
        only = user.visible_patients(session)  # care teams
        rows = list_patients(session, limit=PAGE_SIZE, offset=offset, q=query or None, by_name=True, only=only)
        total = count_patients(session, q=query or None, only=only)
    user.audit("ehr.patients.list", "Patient", f"search:{query[:40]}" if query else "*")
    return render(request, "ehr_patients.html", {"rows": rows, "total": total, "offset": offset, "q": query,
                                                 "page_size": PAGE_SIZE})


@router.get("/ehr/patients/{patient_id}", response_class=HTMLResponse)
def patient_page(patient_id: str, request: Request, user: WebUser) -> HTMLResponse:
    from theralab.ehr.patients import load_patient
    from theralab.web.pages.patient_view import header, latest_observations, note_html

    require_role(set(user.roles), "clinician", "researcher")
    with session_scope() as session:
        user.require_patient(session, patient_id)
        record = load_patient(session, patient_id)
        head = header(session, patient_id, user)
        latest = latest_observations(session, record)
    user.audit("ehr.patient.read", "Patient", patient_id)
    notes = sorted(record.notes, key=lambda n: n.date.isoformat() if n.date else "", reverse=True)[:10]
    return render(request, "ehr_patient.html", {
        "p": record, "patient": head, "latest": latest,
        "active_conditions": record.active_conditions(), "active_medications": record.active_medications(),
        "notes": [{"date": n.date, "title": n.display, "html": note_html(n.text)} for n in notes]})
