"""``/v1/trials``: store trials and their criteria, correct them, match patients, the feasibility funnel.

Criteria are trial documents; matching reads patient data, so the match, funnel and explanation
routes need the clinician or researcher role and write an audit record (identifiers only). Writing a
trial or a correction needs the same roles (a person answerable for the change); reading a trial's
criteria needs only a login.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from theralab.api.schemas import MatchPage, OpenResult, RequestModel, TrialRank, TrialSummary
from theralab.errors import InputError
from theralab.privacy import consent
from theralab.privacy.deps import CurrentUser, Principal, SessionDep, require_roles
from theralab.trials.criteria.schemas import Criteria, CriteriaCorrection
from theralab.trials.matching.schemas import PatientMatch

router = APIRouter(prefix="/trials", tags=["trials"])
Clinical = Annotated[Principal, Depends(require_roles("clinician", "researcher"))]
#: Matching reads patient data: the SMART scope too, and the care-team check per patient.
Matcher = Annotated[Principal, Depends(require_roles("clinician", "researcher", scope="Patient.read"))]


class TrialIn(RequestModel):
    """A trial to add: its id, a title, and eligibility text to parse or an already structured parse."""

    id: str = Field(..., max_length=128, description="an NCT id or the site's own id")
    title: str = Field("", max_length=500)
    criteria_text: str | None = Field(None, max_length=200_000, description="eligibility criteria text")
    criteria: Criteria | None = Field(None, description="a structured parse (instead of criteria_text)")
    replace: bool = Field(False, description="store as a new version when the trial exists")


class TrialOut(BaseModel):
    """A trial with its current criteria and the list of versions."""

    id: str
    title: str
    version: int
    criteria: Criteria
    versions: list[dict[str, Any]]


def _trial_out(session: Any, trial_id: str) -> TrialOut:
    from theralab.trials.tables import current_criteria, get_trial, versions

    row = get_trial(session, trial_id)
    crit, version = current_criteria(session, trial_id)
    hist = [{"version": v.version, "kind": v.kind, "author": v.author, "note": v.note,
             "created_at": v.created_at.isoformat() if v.created_at else None} for v in versions(session, trial_id)]
    return TrialOut(id=row.id, title=row.title, version=version, criteria=crit, versions=hist)


@router.get("", response_model=list[TrialSummary])
def list_trials(user: CurrentUser, session: SessionDep) -> list[dict[str, Any]]:
    """Stored trials: id, title, current version, criteria counts."""
    from theralab.trials.tables import list_trials as _list

    return _list(session)


@router.post("", response_model=TrialOut, status_code=201)
def add_trial(body: TrialIn, user: Clinical, session: SessionDep) -> TrialOut:
    """Add a trial: parse ``criteria_text`` (or take ``criteria`` as given) and store it as version 1."""
    from theralab.trials.criteria import parse_criteria
    from theralab.trials.tables import add_trial as _add

    if (body.criteria_text is None) == (body.criteria is None):
        raise InputError("give exactly one of criteria_text and criteria", where="body",
                         hint="criteria_text: eligibility text to parse; criteria: a structured parse")
    crit = body.criteria or parse_criteria(body.criteria_text or "", trial_id=body.id)
    _add(session, body.id, crit, title=body.title, author=user.username, replace=body.replace)
    user.audit("trials.add", "Trial", body.id, session=session)
    return _trial_out(session, body.id)


@router.get("/for-patient/{patient_id}", response_model=list[TrialRank])
def trials_for_patient(patient_id: str, user: Matcher, session: SessionDep,
                       at: date | None = None) -> list[dict[str, Any]]:
    """Every stored trial ranked for one patient (eligible first), with pass/fail/unknown counts."""
    from theralab.trials.matching import rank_trials

    user.require_patient(session, patient_id)
    consent.require(session, patient_id, "trial_contact")
    out = rank_trials(session, patient_id, at=at)
    user.audit("trials.match.patient_trials", "Patient", patient_id, session=session)
    return [{"trial_id": m.trial_id, "version": m.version, "eligibility": m.eligibility, "score": m.score,
             "passed": m.passed, "failed": m.failed, "unknown": m.unknown} for m in out]


@router.get("/{trial_id}", response_model=TrialOut)
def get_trial(trial_id: str, user: CurrentUser, session: SessionDep) -> TrialOut:
    """The trial's current structured criteria and its version history."""
    return _trial_out(session, trial_id)


@router.put("/{trial_id}/criteria", response_model=TrialOut)
def correct_criteria(trial_id: str, correction: CriteriaCorrection, user: Clinical, session: SessionDep) -> TrialOut:
    """Store a user's correction of the parse as a new criteria version (the author is the caller)."""
    from theralab.trials.tables import save_correction

    correction = correction.model_copy(update={"author": user.username})
    save_correction(session, trial_id, correction)
    user.audit("trials.criteria.correct", "Trial", trial_id, session=session)
    return _trial_out(session, trial_id)


@router.get("/{trial_id}/match", response_model=MatchPage)
def match(
    trial_id: str,
    user: Matcher,
    session: SessionDep,
    at: date | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**7)] = 0,
    notes: bool = Query(False, description="re-judge the listed patients with their notes"),
) -> dict[str, Any]:
    """Patients ranked for the trial: eligible, then not enough information, then ineligible."""
    from theralab.trials.matching import evaluate_cohort, refine_ranked
    from theralab.trials.tables import current_criteria

    crit, version = current_criteria(session, trial_id)
    cohort = evaluate_cohort(session, crit, at=at, trial_id=trial_id, version=version)
    ranked = cohort.ranked(limit=None)
    visible = user.visible_patients(session)  # care teams: only patients under the caller's care are listed
    if visible is not None:
        ranked = [r for r in ranked if r["patient_id"] in visible]
    # consent: a patient who withdrew trial contact is never listed (checked now, so a withdrawal is immediate)
    contactable = set(consent.filter_allowed(session, [r["patient_id"] for r in ranked], "trial_contact"))
    rows = [r for r in ranked if r["patient_id"] in contactable][offset:offset + limit]
    if notes:
        rows = refine_ranked(session, crit, rows, at=at)
    user.audit("trials.match.cohort", "Trial", trial_id, session=session)
    return {"trial_id": trial_id, "version": version, "at": cohort.at.isoformat(), "patients": len(cohort.universe),
            "offset": offset, "withheld_without_consent": len(ranked) - len(contactable), "items": rows}


@router.get("/{trial_id}/funnel", response_model=OpenResult)
def funnel(trial_id: str, user: Matcher, session: SessionDep, at: date | None = None) -> dict[str, Any]:
    """Feasibility funnel: how many patients each criterion removes, applied in order, and per-criterion counts."""
    from theralab.trials.matching import evaluate_cohort
    from theralab.trials.tables import current_criteria

    crit, version = current_criteria(session, trial_id)
    cohort = evaluate_cohort(session, crit, at=at, trial_id=trial_id, version=version)
    user.audit("trials.funnel", "Trial", trial_id, session=session)
    return {**cohort.funnel(), "criteria": cohort.counts()}


@router.get("/{trial_id}/patients/{patient_id}", response_model=PatientMatch)
def explain(
    trial_id: str,
    patient_id: str,
    user: Matcher,
    session: SessionDep,
    at: date | None = None,
    notes: bool = True,
    llm: bool = Query(False, description="ask the configured LLM about criteria still unknown"),
) -> PatientMatch:
    """One patient criterion by criterion: status, outcome, and the evidence (resource ids, note sentences)."""
    from theralab.trials.matching import explain_patient
    from theralab.trials.tables import current_criteria

    user.require_patient(session, patient_id)
    consent.require(session, patient_id, "trial_contact")
    crit, version = current_criteria(session, trial_id)
    judge = None
    if llm:
        from theralab.trials.matching.llm import LLMJudge

        judge = LLMJudge.from_settings()
    m = explain_patient(session, crit, patient_id, at=at, notes=notes, judge=judge, trial_id=trial_id,
                        version=version)
    user.audit("trials.match.patient", "Patient", patient_id, session=session)
    return m
