"""Meta-analysis: effect sizes, fixed and random effects, heterogeneity, bias tests, plots.

Modules: :mod:`.effects`, :mod:`.model`, :mod:`.plots`, :mod:`.inputs` (study tables).
"""

from __future__ import annotations

from theralab.trials.meta.inputs import (
    ALL_METHODS,
    LABEL_COLUMNS,
    MEASURE_COLUMNS,
    MEASURES,
    POOLED_2X2_METHODS,
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
    leave_one_out,
    mantel_haenszel,
    meta_analysis,
    peto,
    rma,
    subgroup_analysis,
)
from theralab.trials.meta.plots import forest_plot, funnel_plot

__all__ = [
    "ALL_METHODS",
    "EffectSizes",
    "EggerResult",
    "LABEL_COLUMNS",
    "MEASURES",
    "MEASURES_2X2",
    "MEASURE_COLUMNS",
    "METHODS",
    "MetaAnalysis",
    "MetaResult",
    "POOLED_2X2_METHODS",
    "PooledFixed",
    "analyse_table",
    "effects_2x2",
    "effects_from_table",
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
    "study_labels",
    "subgroup_analysis",
]
