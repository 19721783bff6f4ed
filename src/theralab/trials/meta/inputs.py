"""Study tables to effect sizes and a pooled result: the one parser the CLI, API and web page share.

Why one place: the three surfaces used to read study data each their own way (the CLI knew seven
layouts and Mantel-Haenszel/Peto, the web page two, the API two), so the same table could be
refused by one and pooled by another. Now each surface only turns its input into a table of
named columns and calls :func:`analyse_table`.

Accepted layouts (column names, case-insensitive):

============  ===========================================================  =================
measure       columns                                                      method
============  ===========================================================  =================
RR, OR, RD    ``ai,bi,ci,di`` or ``tpos,tneg,cpos,cneg`` (events/non-events, treatment then control)  any, or MH / PETO
MD, SMD       ``m1,sd1,n1,m2,sd2,n2``                                       any
HR            ``loghr,se``                                                 any
GEN           ``yi,vi`` (ready effect sizes and variances)                 any
============  ===========================================================  =================

Study labels come from ``label`` (a column name) or the first of ``author, study, label, name``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from theralab.errors import InputError
from theralab.trials.meta import effects as fx
from theralab.trials.meta.model import METHODS, MetaResult, rma

MEASURES = ("RR", "OR", "RD", "MD", "SMD", "HR", "GEN")
POOLED_2X2_METHODS = ("MH", "PETO")
ALL_METHODS = tuple(METHODS) + POOLED_2X2_METHODS
MEASURE_COLUMNS: dict[str, list[tuple[str, ...]]] = {
    "2x2": [("ai", "bi", "ci", "di"), ("tpos", "tneg", "cpos", "cneg")],
    "means": [("m1", "sd1", "n1", "m2", "sd2", "n2")],
    "hr": [("loghr", "se")],
    "gen": [("yi", "vi")],
}
LABEL_COLUMNS = ("author", "study", "label", "name")


@dataclass(frozen=True)
class MetaAnalysis:
    """What a surface shows: the effects (with any continuity correction) and the pooled result.

    ``result`` is a :class:`MetaResult` (inverse-variance fixed or random effects) or, for
    ``method`` MH / PETO, a :class:`PooledFixed` (Mantel-Haenszel or Peto one-step).
    """

    effects: fx.EffectSizes | None
    result: MetaResult | fx.PooledFixed

    @property
    def correction(self) -> str:
        """The continuity correction applied, or "" when no table needed one."""
        return self.effects.correction if self.effects is not None and self.effects.corrected else ""


def _columns(frame: Any) -> dict[str, str]:
    return {str(c).strip().lower(): c for c in frame.columns}


def _layout(cols: dict[str, str], kind: str) -> tuple[str, ...] | None:
    return next((names for names in MEASURE_COLUMNS[kind] if set(names) <= set(cols)), None)


def effects_from_table(frame: Any, measure: str = "RR", *, label: str | None = None,
                       continuity: float = 0.5) -> fx.EffectSizes:
    """Per-study effect sizes from a table in one of the layouts of this module.

    Raises:
        InputError: unknown measure, or the columns the measure needs are missing (the message
            names them).
    """
    measure = measure.upper()
    if measure not in MEASURES:
        raise InputError(f"unknown measure {measure!r}", where="measure", hint=", ".join(MEASURES))
    cols = _columns(frame)
    labels = study_labels(frame, label)
    if measure in fx.MEASURES_2X2:
        names = _layout(cols, "2x2")
        if names is None:
            raise InputError(f"columns must be ai,bi,ci,di (or tpos,tneg,cpos,cneg) for {measure}", where="columns",
                             hint=f"columns given: {', '.join(map(str, frame.columns))}")
        return fx.effects_2x2(*[frame[cols[c]] for c in names], measure=measure, add=continuity, labels=labels)
    if measure in ("MD", "SMD"):
        names = _layout(cols, "means")
        if names is None:
            raise InputError(f"columns must be m1,sd1,n1,m2,sd2,n2 for {measure}", where="columns")
        return fx.effects_means(*[frame[cols[c]] for c in names], measure=measure, labels=labels)
    if measure == "HR":
        if _layout(cols, "hr") is None:
            raise InputError("columns must be loghr,se for HR", where="columns")
        return fx.effects_hr(frame[cols["loghr"]], frame[cols["se"]], labels=labels)
    if _layout(cols, "gen") is None:
        raise InputError("columns must be yi,vi for GEN (ready effect sizes)", where="columns")
    try:
        yi = np.asarray(frame[cols["yi"]], dtype=float)
        vi = np.asarray(frame[cols["vi"]], dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"yi and vi must be numbers: {exc}", where="columns yi,vi") from exc
    return fx.EffectSizes("", yi, vi, labels or [])


def study_labels(frame: Any, label: str | None = None) -> list[str] | None:
    """Study labels from ``label`` or the first usual label column; ``None`` when there is none."""
    cols = _columns(frame)
    if label is not None:
        if label.lower() not in cols:
            raise InputError(f"label column {label!r} not found", where="label",
                             hint=f"columns given: {', '.join(map(str, frame.columns))}")
        return [str(x) for x in frame[cols[label.lower()]]]
    found = next((cols[c] for c in LABEL_COLUMNS if c in cols), None)
    return [str(x) for x in frame[found]] if found is not None else None


def analyse_table(frame: Any, measure: str = "RR", method: str = "REML", *, test: str = "z", level: float = 0.95,
                  label: str | None = None, continuity: float = 0.5) -> MetaAnalysis:
    """Pool a study table: random/fixed effects by ``method``, or Mantel-Haenszel / Peto for 2x2 data."""
    method = method.upper()
    measure = measure.upper()
    if method not in ALL_METHODS:
        raise InputError(f"unknown method {method!r}", where="method", hint=", ".join(ALL_METHODS))
    if method in POOLED_2X2_METHODS:
        names = _layout(_columns(frame), "2x2")
        if measure not in fx.MEASURES_2X2 or names is None:
            raise InputError(f"{method} pools 2x2 tables (measure RR, OR or RD with ai,bi,ci,di)", where="method")
        cols = _columns(frame)
        tables = [frame[cols[c]] for c in names]
        if method == "MH":
            return MetaAnalysis(None, fx.mantel_haenszel(*tables, measure=measure, level=level, add=continuity))
        return MetaAnalysis(None, fx.peto(*tables, level=level))  # Peto's one-step estimate is always an OR
    es = effects_from_table(frame, measure, label=label, continuity=continuity)
    res = rma(es.yi, es.vi, method=method, test=test, level=level, labels=es.labels or None, measure=es.measure)
    return MetaAnalysis(es, res)
