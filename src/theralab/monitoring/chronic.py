"""Chronic-disease trend metrics: continuous glucose monitoring and blood-pressure control.

Why these definitions: clinicians compare CGM reports across devices only because the metrics
are standardised by the International Consensus on Time in Range (Battelino et al., Diabetes
Care 2019;42:1593) and the glucose management indicator by Bergenstal et al. (Diabetes Care
2018;41:2275): GMI (%) = 3.31 + 0.02392 x mean glucose (mg/dL). Blood pressure is classified
by the 2017 ACC/AHA guideline categories, and its trend by a Theil-Sen slope, which a few
mis-measured cuffs cannot swing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from theralab.errors import InputError

MGDL_PER_MMOLL = 18.018

# consensus targets for most adults with type 1 or type 2 diabetes (Battelino 2019, table 4)
CGM_TARGETS = {
    "tir_pct": (">", 70.0),
    "tbr70_pct": ("<", 4.0),
    "tbr54_pct": ("<", 1.0),
    "tar180_pct": ("<", 25.0),
    "tar250_pct": ("<", 5.0),
    "cv_pct": ("<=", 36.0),
}


def _series(values: Any, times: Any | None, name: str) -> pd.Series:
    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or v.size == 0:
        raise InputError(f"{name} must be a non-empty 1-D sequence", where=name)
    if not np.all(np.isfinite(v)):
        first = int(np.flatnonzero(~np.isfinite(v))[0])
        raise InputError(f"{name} contains NaN or infinite values", where=f"{name}[{first}]")
    idx = pd.to_datetime(times) if times is not None else pd.RangeIndex(v.size)
    if times is not None and len(idx) != v.size:
        raise InputError("times and values differ in length", where="times")
    return pd.Series(v, index=idx).sort_index()


def cgm_metrics(
    glucose: Any, times: Any | None = None, unit: str = "mg/dL", expected_interval_min: float = 5.0
) -> dict[str, float]:
    """Consensus CGM metrics of a glucose series.

    Percentages are shares of readings (CGM readings are equally spaced; gaps reduce
    ``active_pct``, the share of expected readings present, which should be >= 70 % of 14 days).

    Args:
        glucose: readings.
        times: reading times (optional; needed for ``active_pct``).
        unit: ``"mg/dL"`` or ``"mmol/L"``.
        expected_interval_min: the sensor's sampling interval.

    Returns:
        mean_mgdl, sd_mgdl, cv_pct, gmi_pct, tir_pct (70-180 inclusive), tbr70_pct (<70, level 1
        and 2), tbr54_pct (<54), tar180_pct (>180), tar250_pct (>250), n, active_pct.

    Raises:
        InputError: unknown unit or values outside the 20-600 mg/dL a CGM can report.
    """
    s = _series(glucose, times, "glucose")
    if unit not in ("mg/dL", "mmol/L"):
        raise InputError(f"unknown glucose unit {unit!r}", where="unit", hint="use mg/dL or mmol/L")
    g = s.to_numpy() * (MGDL_PER_MMOLL if unit == "mmol/L" else 1.0)
    if g.min() < 20 or g.max() > 600:
        bad = int(np.flatnonzero((g < 20) | (g > 600))[0])
        raise InputError(
            f"glucose {g[bad]:.0f} mg/dL is outside what a CGM reports (20-600)",
            where=f"glucose[{bad}]",
            hint=f"check the unit (given {unit})",
        )
    mean = float(g.mean())
    sd = float(g.std(ddof=1)) if g.size > 1 else 0.0
    out = {
        "n": float(g.size),
        "mean_mgdl": mean,
        "sd_mgdl": sd,
        "cv_pct": 100 * sd / mean,
        "gmi_pct": 3.31 + 0.02392 * mean,
        "tir_pct": 100 * float(np.mean((g >= 70) & (g <= 180))),
        "tbr70_pct": 100 * float(np.mean(g < 70)),
        "tbr54_pct": 100 * float(np.mean(g < 54)),
        "tar180_pct": 100 * float(np.mean(g > 180)),
        "tar250_pct": 100 * float(np.mean(g > 250)),
    }
    if times is not None and g.size > 1:
        span_min = (s.index[-1] - s.index[0]).total_seconds() / 60
        out["active_pct"] = 100 * min(1.0, g.size / (span_min / expected_interval_min + 1))
    return out


def cgm_targets_met(metrics: dict[str, float]) -> dict[str, bool]:
    """Which consensus targets a :func:`cgm_metrics` result meets."""
    ops = {">": np.greater, "<": np.less, "<=": np.less_equal}
    return {k: bool(ops[op](metrics[k], v)) for k, (op, v) in CGM_TARGETS.items()}


@dataclass(frozen=True)
class Trend:
    """Theil-Sen slope per ``unit`` with its 95 % confidence interval."""

    slope: float
    low: float
    high: float
    unit: str

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "significant": self.significant}


def trend(values: Any, times: Any, per: str = "week") -> Trend:
    """Robust linear trend (Theil-Sen) of a series per day or week."""
    s = _series(values, times, "values")
    if s.size < 3:
        raise InputError("a trend needs at least 3 readings", where="values")
    days = (s.index - s.index[0]).total_seconds().to_numpy() / 86400.0
    scale = {"day": 1.0, "week": 7.0}[per]
    slope, _, lo, hi = stats.theilslopes(s.to_numpy(), days)
    return Trend(float(slope * scale), float(lo * scale), float(hi * scale), f"per {per}")


def bp_category(systolic: float, diastolic: float) -> str:
    """2017 ACC/AHA category of one (mean) reading; crisis: > 180 and/or > 120 mmHg."""
    if systolic > 180 or diastolic > 120:
        return "hypertensive crisis"
    if systolic >= 140 or diastolic >= 90:
        return "stage 2 hypertension"
    if systolic >= 130 or diastolic >= 80:
        return "stage 1 hypertension"
    if systolic >= 120:
        return "elevated"
    return "normal"


def bp_control(
    systolic: Any, diastolic: Any, times: Any | None = None, target: tuple[float, float] = (130.0, 80.0)
) -> dict[str, Any]:
    """Home blood-pressure control: means, category, share of readings at target, trend.

    Raises:
        InputError: mismatched lengths, or readings no cuff produces (SBP outside 50-300,
        DBP outside 20-200, or DBP >= SBP).
    """
    sbp = _series(systolic, times, "systolic")
    dbp = _series(diastolic, times, "diastolic")
    if sbp.size != dbp.size:
        raise InputError("systolic and diastolic differ in length", where="diastolic")
    s, d = sbp.to_numpy(), dbp.to_numpy()
    bad = np.flatnonzero((s < 50) | (s > 300) | (d < 20) | (d > 200) | (d >= s))
    if bad.size:
        i = int(bad[0])
        raise InputError(
            f"implausible blood pressure {s[i]:.0f}/{d[i]:.0f} mmHg",
            where=f"reading {i}",
            hint="check for swapped systolic/diastolic or a failed measurement",
        )
    out: dict[str, Any] = {
        "n": int(s.size),
        "mean_systolic": float(s.mean()),
        "mean_diastolic": float(d.mean()),
        "category": bp_category(float(s.mean()), float(d.mean())),
        "at_target_pct": 100 * float(np.mean((s < target[0]) & (d < target[1]))),
        "target": list(target),
    }
    if times is not None and s.size >= 3:
        out["systolic_trend"] = trend(s, sbp.index).to_dict()
    return out
