"""``/v1/trials/criteria``: parse eligibility criteria text and apply a user's correction.

Criteria are trial documents, not patient data, so any logged-in user may parse them; nothing is
stored here (the trial store keeps the parse and its corrections).
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from theralab.api.schemas import RequestModel
from theralab.privacy.deps import CurrentUser
from theralab.trials.criteria.schemas import Criteria, CriteriaCorrection

router = APIRouter(prefix="/trials/criteria", tags=["trials"])


class ParseRequest(RequestModel):
    """Criteria text (as on ClinicalTrials.gov, or one criterion per line)."""

    text: str = Field(..., max_length=200_000, description="the eligibility criteria text")
    trial_id: str | None = Field(None, description="e.g. an NCT id, stored on the result")
    default_kind: str = Field("inclusion", description="kind before any Inclusion/Exclusion header")


class CorrectRequest(RequestModel):
    """A parse and the correction to apply to it."""

    criteria: Criteria
    correction: CriteriaCorrection


@router.post("/parse", response_model=Criteria)
def parse(body: ParseRequest, user: CurrentUser) -> Criteria:
    """Parse criteria into structured, coded entities with AND/OR logic, age and sex rules."""
    from theralab.trials.criteria.parse import parse_criteria

    return parse_criteria(body.text, trial_id=body.trial_id, default_kind=body.default_kind)


@router.post("/correct", response_model=Criteria)
def correct(body: CorrectRequest, user: CurrentUser) -> Criteria:
    """Apply a correction (edits to entities/criteria) and return the corrected parse with its history."""
    from theralab.trials.criteria import apply_correction

    if not body.correction.author:
        body.correction.author = user.username
    return apply_correction(body.criteria, body.correction)
