"""``/v1/privacy``: consent records per patient, the audit chain check, de-identified research exports.

Consent may be read by staff and by the patient themself, and recorded by a clinician or by the
patient (a researcher cannot grant consent on a patient's behalf). A withdrawal is effective for the
next request. The research export is de-identified (HIPAA Safe Harbor, keyed pseudonyms) and holds
only patients whose research consent allows it. Care teams (who sees which patient) are assigned
here by an admin.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, Field

from theralab.api.schemas import RequestModel
from theralab.privacy import audit, careteam, consent
from theralab.privacy.deps import Principal, SessionDep, require_roles

router = APIRouter(prefix="/privacy", tags=["privacy"])
PatientId = Annotated[str, PathParam(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9._-]+$")]
Reader = Annotated[Principal, Depends(require_roles("clinician", "researcher", "patient", scope="Consent.read"))]
Recorder = Annotated[Principal, Depends(require_roles("clinician", "patient", scope="Consent.write"))]
Admin = Annotated[Principal, Depends(require_roles("admin", scope="AuditEvent.read"))]
TeamAdmin = Annotated[Principal, Depends(require_roles("admin", scope="CareTeam.write"))]
Researcher = Annotated[Principal, Depends(require_roles("researcher", scope="Patient.read"))]
TeamName = Annotated[str, PathParam(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9 ._@-]+$")]
UserName = Annotated[str, PathParam(min_length=1, max_length=120)]
TeamPatient = Annotated[str, PathParam(min_length=1, max_length=120, pattern=r"^([A-Za-z0-9._-]+|\*)$")]


class ConsentIn(RequestModel):

    purpose: consent.Purpose
    granted: bool = Field(description="true to consent, false to withdraw")
    note: str = Field("", max_length=500, description="e.g. how consent was obtained (no clinical details)")


class ChainOut(BaseModel):
    ok: bool
    checked: int
    unsealed: int
    first_bad_seq: int | None
    reason: str


class MemberIn(RequestModel):
    username: str = Field(min_length=1, max_length=120, pattern=r"^[^\x00-\x1f\x7f]+$")


class PatientsIn(RequestModel):
    patient_ids: list[Annotated[str, Field(min_length=1, max_length=120, pattern=r"^([A-Za-z0-9._-]+|\*)$")]] = Field(
        min_length=1, max_length=10_000, description="patient ids, or ['*'] for every patient")


class TeamOut(BaseModel):
    team: str
    members: list[str]
    patients: int | str = Field(description="how many patients, or '*' for every patient")


class Changed(BaseModel):
    changed: int


def _self_or_staff(user: Principal, session: SessionDep, patient_id: str) -> None:
    user.require_patient(session, patient_id)


@router.get("/consent/{patient_id}", response_model=consent.ConsentState)
def read_consent(patient_id: PatientId, user: Reader, session: SessionDep) -> consent.ConsentState:
    """The patient's current consent decisions and what they mean under the site's mode."""
    _self_or_staff(user, session, patient_id)
    user.audit("consent.read", "Patient", patient_id, session=session)
    return consent.state(session, patient_id)


@router.post("/consent/{patient_id}", response_model=consent.ConsentState, status_code=201)
def record_consent(patient_id: PatientId, body: ConsentIn, user: Recorder, session: SessionDep) -> consent.ConsentState:
    """Record a grant or a withdrawal (effective for the next request)."""
    _self_or_staff(user, session, patient_id)
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


@router.get("/care-teams", response_model=list[TeamOut])
def list_care_teams(user: TeamAdmin, session: SessionDep) -> list[dict[str, object]]:
    """Every care team: members and how many patients (admin)."""
    user.audit("careteam.list", "CareTeam", "*", session=session)
    return careteam.teams(session)


@router.post("/care-teams/{team}/members", response_model=Changed, status_code=201)
def add_care_team_member(team: TeamName, body: MemberIn, user: TeamAdmin, session: SessionDep) -> Changed:
    """Put a user on a team: from the next request they see its patients (admin)."""
    changed = careteam.add_member(session, team, body.username, by=user.username)
    user.audit("careteam.member.add", "CareTeam", f"{team}:{body.username}", session=session)
    return Changed(changed=int(changed))


@router.delete("/care-teams/{team}/members/{username}", response_model=Changed)
def remove_care_team_member(team: TeamName, username: UserName, user: TeamAdmin, session: SessionDep) -> Changed:
    """Take a user off a team (effective for the next request)."""
    changed = careteam.remove_member(session, team, username)
    user.audit("careteam.member.remove", "CareTeam", f"{team}:{username}", session=session)
    return Changed(changed=int(changed))


@router.post("/care-teams/{team}/patients", response_model=Changed, status_code=201)
def add_care_team_patients(team: TeamName, body: PatientsIn, user: TeamAdmin, session: SessionDep) -> Changed:
    """Put patients under a team's care (``*``: every patient) (admin)."""
    changed = careteam.add_patients(session, team, body.patient_ids, by=user.username)
    user.audit("careteam.patients.add", "CareTeam", f"{team}:{len(body.patient_ids)}", session=session)
    return Changed(changed=changed)


@router.delete("/care-teams/{team}/patients/{patient_id}", response_model=Changed)
def remove_care_team_patient(team: TeamName, patient_id: TeamPatient, user: TeamAdmin, session: SessionDep) -> Changed:
    """Take a patient off a team's care."""
    changed = careteam.remove_patient(session, team, patient_id)
    user.audit("careteam.patient.remove", "CareTeam", team, patient_id=patient_id, session=session)
    return Changed(changed=int(changed))
