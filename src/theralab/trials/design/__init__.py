"""Trial design: sample size and power, group-sequential designs, adaptive-design simulation.

This module gathers the public API of three sub-modules so callers write
``from theralab.trials.design import n_means, group_sequential, simulate_ssr``:

* :mod:`theralab.trials.design.power` -- fixed designs (means t/z, proportions, survival, NI, TOST);
* :mod:`theralab.trials.design.gsd` -- group-sequential boundaries by exact recursive integration;
* :mod:`theralab.trials.design.adaptive` -- Monte-Carlo operating characteristics of adaptive designs.

See ``docs/trials-statistics.md`` for the formulas and their sources.
"""

from __future__ import annotations

from theralab.trials.design.adaptive import OperatingCharacteristics, simulate_arm_dropping, simulate_ssr
from theralab.trials.design.gsd import (
    SPENDING,
    GroupSequentialDesign,
    characteristics,
    group_sequential,
    spending,
)
from theralab.trials.design.power import (
    PROPORTION_METHODS,
    SAMPLE_SIZE_NEEDS,
    SampleSize,
    check_probability,
    events_survival,
    n_equivalence,
    n_group_sequential,
    n_means,
    n_noninferiority,
    n_proportions,
    n_survival,
    power_equivalence,
    power_means,
    power_proportions,
    power_survival,
    prob_event,
    sample_size,
)

__all__ = [
    "SPENDING",
    "PROPORTION_METHODS",
    "SAMPLE_SIZE_NEEDS",
    "GroupSequentialDesign",
    "OperatingCharacteristics",
    "SampleSize",
    "characteristics",
    "check_probability",
    "events_survival",
    "group_sequential",
    "n_equivalence",
    "n_group_sequential",
    "n_means",
    "n_noninferiority",
    "n_proportions",
    "n_survival",
    "power_equivalence",
    "power_means",
    "power_proportions",
    "power_survival",
    "prob_event",
    "sample_size",
    "simulate_arm_dropping",
    "simulate_ssr",
    "spending",
]
