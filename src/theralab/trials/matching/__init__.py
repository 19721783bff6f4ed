"""Explainable patient-trial matching with evidence, over the stored patient record.

Modules: :mod:`.atoms` (criteria -> SQL questions), :mod:`.evaluate` (Kleene logic),
:mod:`.engine` (match, explain, funnel), :mod:`.notes` (free-text evidence), :mod:`.text`
(free-text patients), :mod:`.llm` (optional judge), :mod:`.schemas`, :mod:`.synthetic`.
"""

from __future__ import annotations

from theralab.trials.matching.engine import (
    CheckResult,
    CohortEvaluation,
    CriterionPlan,
    CriterionResult,
    Evidence,
    PatientMatch,
    evaluate_cohort,
    explain_patient,
    plan,
    rank_trials,
    refine_ranked,
)

__all__ = [
    "CheckResult",
    "CohortEvaluation",
    "CriterionPlan",
    "CriterionResult",
    "Evidence",
    "PatientMatch",
    "evaluate_cohort",
    "explain_patient",
    "plan",
    "rank_trials",
    "refine_ranked",
]
