"""Meta-analysis: effect sizes, fixed and random effects, heterogeneity, bias tests, plots.

Modules: :mod:`.effects`, :mod:`.model`, :mod:`.plots`.
"""

from __future__ import annotations

from theralab.trials.meta.inputs import (
    ALL_METHODS,
    MEASURES,
    MetaAnalysis,
    analyse_table,
    effects_from_table,
    study_labels,
)
from theralab.trials.meta.model import (
    MEASURES_2X2,
    METHODS,
    EffectSizes,
    EggerResult,
    MetaResult,
    PooledFixed,
    effects_2x2,
    effects_hr,
    effects_means,
    egger_test,
    forest_plot,
    funnel_plot,
    leave_one_out,
    mantel_haenszel,
    meta_analysis,
    peto,
    rma,
    subgroup_analysis,
)

__all__ = [
    "ALL_METHODS",
    "MEASURES",
    "MetaAnalysis",
    "analyse_table",
    "effects_from_table",
    "study_labels",
    "EffectSizes",
    "EggerResult",
    "MEASURES_2X2",
    "METHODS",
    "MetaResult",
    "PooledFixed",
    "effects_2x2",
    "effects_hr",
    "effects_means",
    "egger_test",
    "forest_plot",
    "funnel_plot",
    "leave_one_out",
    "mantel_haenszel",
    "meta_analysis",
    "peto",
    "rma",
    "subgroup_analysis",
]
