"""Result models of matching: what a clinician reads for one patient and one trial.

Pydantic so the API returns them as they are and the web page renders the same fields.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

Status = Literal["met", "not_met", "unknown"]
Outcome = Literal["pass", "fail", "unknown"]
Eligibility = Literal["eligible", "ineligible", "unknown"]


class Evidence(BaseModel):
    """Why a check came out as it did: the resource (or note sentence) and what it says."""

    resource: str = ""  # "Condition/<id>", "DocumentReference/<id>", "Patient/<id>", "llm"
    text: str
    date: datetime | None = None
    source: Literal["record", "note", "llm", "demographics", "absence"] = "record"
    context: list[str] = Field(default_factory=list)


class CheckResult(BaseModel):
    """One atom (an entity, or the age/sex rule) of a criterion, for one patient."""

    id: str
    kind: str
    question: str
    status: Status
    reason: str = ""
    evidence: list[Evidence] = Field(default_factory=list)


class CriterionResult(BaseModel):
    """One criterion for one patient: status of its statement, and what that means for eligibility."""

    criterion_id: str
    kind: Literal["inclusion", "exclusion"]
    text: str
    status: Status
    outcome: Outcome
    reason: str = ""
    checks: list[CheckResult] = Field(default_factory=list)
    grouped: list[str] = Field(default_factory=list)


class PatientMatch(BaseModel):
    """A patient against a trial: overall eligibility, a ranking score and the criterion-by-criterion explanation."""

    patient_id: str
    trial_id: str | None = None
    version: int | None = None
    at: date
    eligibility: Eligibility
    score: float
    passed: int
    failed: int
    unknown: int
    criteria: list[CriterionResult] = Field(default_factory=list)
