"""Put a raw polygenic score in context: ancestry-aware standardisation, percentiles, absolute risk.

A raw PRS sum has no meaning alone: its mean and spread depend on the score and on the ancestry
of the person, because allele frequencies differ between populations. So a score is compared
with a reference panel of the same ancestry (``z = (s - mean_g) / sd_g`` within group ``g``), and
its percentile is read from that group's empirical distribution. Absolute risk then needs two
facts from outside the genotypes: the baseline incidence in the population and the odds ratio
per standard deviation of the score (both published with most scores).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq

from theralab.errors import InputError

ALL = "ALL"


@dataclass
class ReferencePanel:
    """Reference distributions of one score, overall and per ancestry group.

    Build with :meth:`fit` from reference-panel scores (e.g. 1000 Genomes samples scored with the
    same file) and their ancestry labels.
    """

    stats: dict[str, tuple[float, float, int]] = field(default_factory=dict)  # group -> (mean, sd, n)
    sorted_scores: dict[str, np.ndarray] = field(default_factory=dict)
    min_group_size: int = 20

    @classmethod
    def fit(cls, scores: Sequence[float], groups: Sequence[str] | None = None, *,
            min_group_size: int = 20) -> ReferencePanel:
        """Summarise reference scores overall and per group (groups smaller than ``min_group_size`` are
        not used on their own, because their mean and SD would be too noisy to standardise against)."""
        values = np.asarray(scores, dtype=float)
        if values.size < 2 or not np.isfinite(values).all():
            raise InputError("a reference panel needs at least two finite scores")
        panel = cls(min_group_size=min_group_size)
        panel._add(ALL, values)
        if groups is not None:
            labels = np.asarray(groups, dtype=object)
            if labels.shape[0] != values.shape[0]:
                raise InputError("reference scores and ancestry labels differ in length")
            for g in sorted(set(labels.tolist())):
                sub = values[labels == g]
                if sub.size >= min_group_size:
                    panel._add(str(g), sub)
        return panel

    def _add(self, group: str, values: np.ndarray) -> None:
        sd = float(values.std(ddof=1))
        if sd <= 0:
            raise InputError(f"reference scores of group {group} have no spread")
        self.stats[group] = (float(values.mean()), sd, int(values.size))
        self.sorted_scores[group] = np.sort(values)

    def _group(self, group: str | None) -> tuple[str, str | None]:
        if group is None or group == ALL:
            return ALL, None
        if str(group) in self.stats:
            return str(group), None
        return ALL, (f"ancestry group {group!r} is not in the reference panel (or has fewer than "
                     f"{self.min_group_size} samples): compared with the whole panel, which may mis-place the score")

    def standardise(self, score: float, group: str | None = None) -> tuple[float, str, str | None]:
        """``(z, group used, caveat)``: the score in SDs from its ancestry group's reference mean."""
        used, caveat = self._group(group)
        mean, sd, _ = self.stats[used]
        return (float(score) - mean) / sd, used, caveat

    def percentile(self, score: float, group: str | None = None) -> float:
        """Empirical percentile (0-100) in the group's reference: share of reference scores <= score,
        with ties counted half (the mid-rank convention)."""
        used, _ = self._group(group)
        ref = self.sorted_scores[used]
        below = np.searchsorted(ref, score, side="left")
        upto = np.searchsorted(ref, score, side="right")
        return float(100.0 * (below + 0.5 * (upto - below)) / ref.size)


def _intercept_for(incidence: float, log_or: float) -> float:
    """The logistic intercept ``a`` with ``E_z[sigmoid(a + log_or * z)] = incidence`` for ``z ~ N(0, 1)``."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(64)
    weights = weights / weights.sum()

    def gap(a: float) -> float:
        return float(np.sum(weights / (1.0 + np.exp(-(a + log_or * nodes))))) - incidence

    return brentq(gap, -50.0, 50.0)


def absolute_risk(z: float | np.ndarray, incidence: float, or_per_sd: float) -> float | np.ndarray:
    """Absolute risk for a standardised score, calibrated so the population mean equals ``incidence``.

    Model: ``logit(risk) = a + ln(OR) * z`` with ``z ~ N(0, 1)`` in the population and ``a`` solved so
    that the average risk over the population is the baseline incidence (the usual way a PRS odds
    ratio is turned into an absolute risk). With OR = 1 every person has the baseline risk.

    Args:
        z: standardised score(s).
        incidence: baseline risk over the same horizon (0 < incidence < 1), e.g. 10-year incidence.
        or_per_sd: odds ratio per SD of the score (> 0), from the score's validation study.
    """
    if not 0.0 < incidence < 1.0:
        raise InputError(f"baseline incidence must be between 0 and 1, got {incidence}",
                         hint="give it as a proportion over the horizon of interest, e.g. 0.12")
    if or_per_sd <= 0:
        raise InputError(f"odds ratio per SD must be positive, got {or_per_sd}")
    log_or = float(np.log(or_per_sd))
    a = _intercept_for(incidence, log_or)
    result = 1.0 / (1.0 + np.exp(-(a + log_or * np.asarray(z, dtype=float))))
    return float(result) if np.ndim(result) == 0 else result
