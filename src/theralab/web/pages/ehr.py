"""Patient pages: the patient list and one patient's record (clinician or researcher; audited)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from theralab.privacy.auth import require_role
from theralab.runtime.db import session_scope
from theralab.web.pages import WebUser
from theralab.web.templating import mark_built, render

router = APIRouter()
mark_built("ehr")


@router.get("/ehr", response_class=HTMLResponse)
def patients_page(request: Request, user: WebUser, offset: int = 0) -> HTMLResponse:
    from theralab.ehr.patients import count_patients, list_patients

    require_role(set(user.roles), "clinician", "researcher")
    with session_scope() as session:
        only = user.visible_patients(session)  # care teams
        rows = list_patients(session, limit=100, offset=max(0, offset), only=only)
        total = count_patients(session, only=only)
    user.audit("ehr.patients.list", "Patient", "*")
    return render(request, "ehr_patients.html", {"rows": rows, "total": total, "offset": offset})


@router.get("/ehr/patients/{patient_id}", response_class=HTMLResponse)
def patient_page(patient_id: str, request: Request, user: WebUser) -> HTMLResponse:
    from theralab.ehr.patients import load_patient

    require_role(set(user.roles), "clinician", "researcher")
    with session_scope() as session:
        user.require_patient(session, patient_id)
        record = load_patient(session, patient_id)
    user.audit("ehr.patient.read", "Patient", patient_id)
    latest = sorted(record.latest_values().values(), key=lambda o: (o.display or o.code or ""))
    return render(request, "ehr_patient.html", {"p": record, "age": record.age_at(), "latest": latest,
                                                "active_conditions": record.active_conditions(),
                                                "active_medications": record.active_medications()})
