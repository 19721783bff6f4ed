"""Eligibility criteria: split, tag, read values and code them into editable structured criteria.

Modules: :mod:`.text` (split), :mod:`.rules` (values, units, windows), :mod:`.codes`,
:mod:`.schemas` (the structured form), :mod:`.parse` (the pipeline).
"""

from __future__ import annotations

from theralab.trials.criteria.parse import chia_trial_text, parse_criteria
from theralab.trials.criteria.schemas import (
    CORE_TYPES,
    AgeRule,
    Code,
    Criteria,
    CriteriaCorrection,
    Criterion,
    CriterionEntity,
    Edit,
    Logic,
    NumericConstraint,
    TemporalWindow,
    apply_correction,
)

__all__ = [
    "AgeRule",
    "CORE_TYPES",
    "Code",
    "Criteria",
    "CriteriaCorrection",
    "Criterion",
    "CriterionEntity",
    "Edit",
    "Logic",
    "NumericConstraint",
    "TemporalWindow",
    "apply_correction",
    "chia_trial_text",
    "parse_criteria",
]
