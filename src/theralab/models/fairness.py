"""Subgroup fairness report: performance and calibration by sex, age band or any group column.

A model that is accurate on average can fail a subgroup (under-calibrated risk for women, lower
sensitivity in the elderly). The report computes the same metrics within every group of every
grouping column, the largest gap between groups per metric, and flags gaps above a tolerance and
groups too small to judge. It is model-agnostic: it takes labels and predictions, so any
platform model (classifier, risk score, regressor) is audited the same way.

Metrics, binary task (``y`` in {0, 1}, ``p`` a probability):
    AUC (Mann-Whitney), Brier ``mean((p - y)^2)``, accuracy, sensitivity (TPR) and false positive
    rate at the threshold, calibration-in-the-large ``mean(p) - mean(y)``, expected calibration
    error (10 equal-width bins, ``sum_b n_b/n * |mean(p_b) - mean(y_b)|``).
Regression task: RMSE, MAE, mean residual ``mean(pred - y)`` (bias), Pearson r.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from theralab.errors import InputError

#: Default tolerated gap between the best and worst group, per metric (absolute).
DEFAULT_TOLERANCE = {"auc": 0.05, "brier": 0.05, "sensitivity": 0.10, "fpr": 0.10, "calibration_in_large": 0.05,
                     "ece": 0.05, "accuracy": 0.10, "rmse": None, "mae": None, "bias": None, "pearson": 0.10}
DEFAULT_AGE_BANDS = (0, 18, 40, 65, 80, 200)


def age_bands(ages: Sequence[float], edges: Sequence[float] = DEFAULT_AGE_BANDS) -> pd.Series:
    """Age in years to labelled bands (``'40-64'``, ``'80+'``), left-closed, so 65 falls in ``'65-79'``."""
    values = pd.to_numeric(pd.Series(list(ages)), errors="coerce")
    if (values < 0).any():
        raise InputError("ages must not be negative")
    labels = [f"{int(lo)}-{int(hi) - 1}" for lo, hi in zip(edges[:-2], edges[1:-1], strict=True)]
    labels.append(f"{int(edges[-2])}+")
    return pd.cut(values, bins=list(edges), right=False, labels=labels).astype(object).where(values.notna(), None)


def auc_score(y: np.ndarray, p: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney probability P(p_pos > p_neg), ties counted half; NaN if one class."""
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    pos, neg = p[y == 1], p[y == 0]
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    ranks = pd.Series(np.concatenate([pos, neg])).rank(method="average").to_numpy()
    return float((ranks[: pos.size].sum() - pos.size * (pos.size + 1) / 2) / (pos.size * neg.size))


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """ECE over equal-width probability bins: ``sum_b (n_b / n) |mean(p_b) - mean(y_b)|``."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in np.unique(idx):
        mask = idx == b
        total += mask.sum() / p.size * abs(p[mask].mean() - y[mask].mean())
    return float(total)


def binary_metrics(y: Sequence[int], p: Sequence[float], threshold: float = 0.5) -> dict[str, float]:
    """The binary metrics of one group (see the module docstring for the formulas)."""
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    pred = p >= threshold
    pos, neg = y == 1, y == 0
    return {
        "n": int(y.size), "prevalence": float(y.mean()) if y.size else float("nan"),
        "auc": auc_score(y, p), "brier": float(np.mean((p - y) ** 2)),
        "accuracy": float(np.mean(pred == pos)),
        "sensitivity": float(pred[pos].mean()) if pos.any() else float("nan"),
        "fpr": float(pred[neg].mean()) if neg.any() else float("nan"),
        "calibration_in_large": float(p.mean() - y.mean()),
        "ece": expected_calibration_error(y, p),
    }


def regression_metrics(y: Sequence[float], pred: Sequence[float]) -> dict[str, float]:
    """RMSE, MAE, bias (mean residual) and Pearson r of one group."""
    y = np.asarray(y, dtype=float)
    pred = np.asarray(pred, dtype=float)
    resid = pred - y
    r = float(np.corrcoef(y, pred)[0, 1]) if y.size > 2 and y.std() > 0 and pred.std() > 0 else float("nan")
    return {"n": int(y.size), "rmse": float(np.sqrt(np.mean(resid**2))), "mae": float(np.mean(np.abs(resid))),
            "bias": float(resid.mean()), "pearson": r}


@dataclass
class FairnessReport:
    """Per-group metrics, per-metric gaps and the flags raised.

    Attributes:
        task: ``binary`` or ``regression``.
        overall: metrics over everyone.
        groups: ``{column: {group value: metrics}}``.
        gaps: ``{column: {metric: max - min over groups with enough samples}}``.
        flags: human-readable findings (a gap above tolerance, a group too small to judge).
    """

    task: str
    overall: dict[str, float]
    groups: dict[str, dict[str, dict[str, float]]]
    gaps: dict[str, dict[str, float]]
    flags: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "overall": self.overall, "groups": self.groups, "gaps": self.gaps,
                "flags": self.flags, "settings": self.settings}

    def to_frame(self) -> pd.DataFrame:
        """One row per (column, group) with its metrics: the table the CLI and web print."""
        rows = [{"column": col, "group": g, **m} for col, per in self.groups.items() for g, m in per.items()]
        return pd.DataFrame(rows)


def fairness_report(y_true: Sequence[float], y_pred: Sequence[float],
                    groups: Mapping[str, Sequence[Any]] | pd.DataFrame, *,
                    task: str = "binary", threshold: float = 0.5, min_group_size: int = 30,
                    tolerance: Mapping[str, float | None] | None = None) -> FairnessReport:
    """Audit predictions by every grouping column.

    Args:
        y_true: labels (0/1 for binary) or true values (regression).
        y_pred: predicted probabilities (binary) or values (regression).
        groups: ``{column name: group label per row}`` (e.g. sex, age band from :func:`age_bands`).
        task: ``binary`` or ``regression``.
        threshold: decision threshold for accuracy, sensitivity and FPR.
        min_group_size: groups smaller than this are reported but excluded from gaps and flagged,
            because their metrics are too noisy to call a difference.
        tolerance: per-metric gap above which a flag is raised (defaults: ``DEFAULT_TOLERANCE``;
            for RMSE/MAE/bias the default is 10% of the overall RMSE).

    Raises:
        InputError: lengths differ, labels are not 0/1, probabilities outside [0, 1], or NaNs.
    """
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    if y.shape != p.shape or y.ndim != 1:
        raise InputError(f"labels ({y.shape}) and predictions ({p.shape}) must be 1-D and of equal length")
    if not (np.isfinite(y).all() and np.isfinite(p).all()):
        raise InputError("labels and predictions must not contain NaN", hint="drop or impute the rows first")
    if task == "binary":
        if not np.isin(y, (0, 1)).all():
            raise InputError("binary labels must be 0 or 1", hint="use task='regression' for continuous outcomes")
        if (p < 0).any() or (p > 1).any():
            raise InputError("binary predictions must be probabilities in [0, 1]")
        metric_fn = lambda yy, pp: binary_metrics(yy, pp, threshold)  # noqa: E731
    elif task == "regression":
        metric_fn = regression_metrics
    else:
        raise InputError(f"unknown task {task!r}", hint="binary or regression")
    frame = pd.DataFrame(groups) if not isinstance(groups, pd.DataFrame) else groups.reset_index(drop=True)
    if len(frame) != y.size:
        raise InputError(f"group columns have {len(frame)} rows but there are {y.size} predictions")
    overall = metric_fn(y, p)
    tol = dict(DEFAULT_TOLERANCE)
    if task == "regression":
        for key in ("rmse", "mae", "bias"):
            tol[key] = 0.1 * overall["rmse"]
    tol.update(tolerance or {})
    per_col: dict[str, dict[str, dict[str, float]]] = {}
    gaps: dict[str, dict[str, float]] = {}
    flags: list[str] = []
    for col in frame.columns:
        labels = frame[col].astype(object).where(frame[col].notna(), "missing").astype(str).to_numpy()
        per: dict[str, dict[str, float]] = {}
        for g in sorted(set(labels.tolist())):
            mask = labels == g
            per[g] = metric_fn(y[mask], p[mask])
            if mask.sum() < min_group_size:
                flags.append(f"{col}={g}: only {int(mask.sum())} rows (< {min_group_size}); metrics too noisy to judge")
        per_col[str(col)] = per
        big = {g: m for g, m in per.items() if m["n"] >= min_group_size}
        col_gaps: dict[str, float] = {}
        for metric, limit in tol.items():
            vals = {g: m[metric] for g, m in big.items() if metric in m and np.isfinite(m[metric])}
            if len(vals) < 2:
                continue
            worst, best = min(vals, key=vals.get), max(vals, key=vals.get)
            gap = float(vals[best] - vals[worst])
            col_gaps[metric] = gap
            if limit is not None and gap > limit:
                flags.append(f"{col}: {metric} differs by {gap:.3f} between {best} ({vals[best]:.3f}) and "
                             f"{worst} ({vals[worst]:.3f}), above the tolerance {limit:.3f}")
        gaps[str(col)] = col_gaps
    return FairnessReport(task=task, overall=overall, groups=per_col, gaps=gaps, flags=flags,
                          settings={"threshold": threshold, "min_group_size": min_group_size,
                                    "tolerance": {k: v for k, v in tol.items() if v is not None}})
