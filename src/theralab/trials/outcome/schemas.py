"""Pydantic models of a trial for outcome prediction: one record whatever its source.

A trial read from the TOP benchmark CSV, from a ClinicalTrials.gov API v2 record, or written by a
sponsor as a draft protocol ends up as one :class:`TrialRecord`. The draft-protocol JSON is
validated with ``extra="forbid"`` so a misspelt field ("enrolment" for "enrollment") is an error,
not a silently ignored design factor.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from theralab.errors import InputError

PHASES = ("early phase 1", "phase 1", "phase 1/phase 2", "phase 2", "phase 2/phase 3", "phase 3", "phase 4")
_PHASE_ALIASES = {
    "early_phase1": "early phase 1", "early phase i": "early phase 1", "phase1": "phase 1", "phase i": "phase 1",
    "phase 1/2": "phase 1/phase 2", "phase1/phase2": "phase 1/phase 2", "phase i/ii": "phase 1/phase 2",
    "phase2": "phase 2", "phase ii": "phase 2", "phase 2/3": "phase 2/phase 3", "phase2/phase3": "phase 2/phase 3",
    "phase ii/iii": "phase 2/phase 3", "phase3": "phase 3", "phase iii": "phase 3", "phase4": "phase 4",
    "phase iv": "phase 4",
}


def normalize_phase(value: str) -> str:
    """One of :data:`PHASES` from the spellings TOP and ClinicalTrials.gov use ("PHASE1", "phase 1/phase 2").

    Raises:
        InputError: a phase that is none of them.
    """
    key = " ".join(str(value).strip().lower().replace("_", " ").split())
    key = _PHASE_ALIASES.get(key, _PHASE_ALIASES.get(key.replace(" ", ""), key))
    if key not in PHASES:
        raise InputError(f"unknown phase {value!r}", where="phase",
                         hint=f"use one of: {', '.join(PHASES)} (or PHASE1, PHASE2, ... as on ClinicalTrials.gov)")
    return key


class Drug(BaseModel):
    """An intervention drug; ``smiles`` is None when the structure is unknown (biologics, devices)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    smiles: str | None = None


class TrialRecord(BaseModel):
    """A trial (historical or draft) with what the outcome models read.

    Attributes:
        nct_id: identifier (an NCT id, or any name for a draft).
        phase: one of :data:`PHASES`.
        diseases: condition names; ``icd_codes`` their ICD-10-CM codes (any number, any disease).
        drugs: interventions with optional SMILES.
        criteria: the eligibility-criteria text as on ClinicalTrials.gov.
        arms, enrollment, duration_months: design factors when known (TOP has none of them).
        status, why_stop, label: outcome of a historical trial (label 1 = success); absent on drafts.
    """

    model_config = ConfigDict(extra="forbid")

    nct_id: str = Field(min_length=1, max_length=64)
    phase: str
    diseases: list[str] = Field(default_factory=list)
    icd_codes: list[str] = Field(default_factory=list)
    drugs: list[Drug] = Field(default_factory=list)
    criteria: str = ""
    arms: int | None = Field(default=None, ge=1, le=100)
    enrollment: int | None = Field(default=None, ge=1, le=10_000_000)
    duration_months: float | None = Field(default=None, gt=0, le=600)
    status: str | None = None
    why_stop: str | None = None
    label: int | None = Field(default=None, ge=0, le=1)

    @field_validator("phase")
    @classmethod
    def _phase(cls, v: str) -> str:
        try:
            return normalize_phase(v)
        except InputError as exc:
            raise ValueError(exc.message) from exc

    @field_validator("icd_codes")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        return [c.strip().upper() for c in v if c and c.strip()]


def parse_protocol(data: dict[str, Any], where: str = "protocol") -> TrialRecord:
    """A draft protocol (or a stored record) from its JSON, refusing unknown fields.

    Raises:
        InputError: unknown fields, wrong types or values, naming the first field at fault.
    """
    if not isinstance(data, dict):
        raise InputError("a protocol must be a JSON object", where=where,
                         hint='e.g. {"nct_id": "draft-1", "phase": "phase 2", "criteria": "Inclusion Criteria: ..."}')
    try:
        return TrialRecord.model_validate(data)
    except ValidationError as exc:
        errs = exc.errors()
        first = errs[0]
        loc = ".".join(str(x) for x in first["loc"])
        if first["type"] == "extra_forbidden":
            unknown = sorted({".".join(str(x) for x in e["loc"]) for e in errs if e["type"] == "extra_forbidden"})
            raise InputError(f"unknown field(s) in the protocol: {', '.join(unknown)}", where=f"{where}.{unknown[0]}",
                             hint="known fields: " + ", ".join(TrialRecord.model_fields)) from exc
        raise InputError(f"invalid protocol: {first['msg']}", where=f"{where}.{loc}" if loc else where) from exc
