"""``/v1/privacy``: consent records per patient, the audit chain check, de-identified research exports.

Consent may be read by staff and by the patient themself, and recorded by a clinician or by the
patient (a researcher cannot grant consent on a patient's behalf). A withdrawal is effective for the
next request. The research export is de-identified (HIPAA Safe Harbor, keyed pseudonyms) and holds
only patients whose research consent allows it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from theralab.errors import ForbiddenError
from theralab.privacy import audit, consent
from theralab.privacy.deps import Principal, SessionDep, require_roles

router = APIRouter(prefix="/privacy", tags=["privacy"])
PatientId = Annotated[str, PathParam(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9._-]+$")]
Reader = Annotated[Principal, Depends(require_roles("clinician", "researcher", "patient"))]
Recorder = Annotated[Principal, Depends(require_roles("clinician", "patient"))]
Admin = Annotated[Principal, Depends(require_roles("admin"))]
Researcher = Annotated[Principal, Depends(require_roles("researcher"))]


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: consent.Purpose
    granted: bool = Field(description="true to consent, false to withdraw")
    note: str = Field("", max_length=500, description="e.g. how consent was obtained (no clinical details)")


class ChainOut(BaseModel):
    ok: bool
    checked: int
    unsealed: int
    first_bad_seq: int | None
    reason: str


def _self_or_staff(user: Principal, patient_id: str) -> None:
    if not user.may_see_patient(patient_id):
        raise ForbiddenError("a patient account may see only its own consent", where="patient_id")


@router.get("/consent/{patient_id}", response_model=consent.ConsentState)
def read_consent(patient_id: PatientId, user: Reader, session: SessionDep) -> consent.ConsentState:
    """The patient's current consent decisions and what they mean under the site's mode."""
    _self_or_staff(user, patient_id)
    user.audit("consent.read", "Patient", patient_id, session=session)
    return consent.state(session, patient_id)


@router.post("/consent/{patient_id}", response_model=consent.ConsentState, status_code=201)
def record_consent(patient_id: PatientId, body: ConsentIn, user: Recorder, session: SessionDep) -> consent.ConsentState:
    """Record a grant or a withdrawal (effective for the next request)."""
    _self_or_staff(user, patient_id)
    consent.record(session, patient_id, body.purpose, body.granted, user.username, body.note)
    user.audit(f"consent.{'grant' if body.granted else 'withdraw'}.{body.purpose}", "Patient", patient_id,
               session=session)
    return consent.state(session, patient_id)


@router.get("/audit/verify", response_model=ChainOut)
def verify_audit(user: Admin) -> ChainOut:
    """Recompute the audit hash chain (admin)."""
    result = audit.verify()
    return ChainOut(**result.__dict__)


@router.get("/research-export", response_class=Response,
            responses={200: {"content": {"application/x-ndjson": {}}, "description": "de-identified FHIR ndjson"}})
def research_export(user: Researcher, session: SessionDep,
                    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> Response:
    """De-identified FHIR resources (ndjson) of the patients whose research consent allows it."""
    from theralab.ehr.research_export import research_export as build

    body, included, withheld = build(session, limit=limit)
    user.audit("research.export", "Export", f"patients={included},withheld={withheld}", session=session)
    return Response(body, media_type="application/x-ndjson",
                    headers={"X-Patients-Included": str(included), "X-Patients-Withheld": str(withheld)})
