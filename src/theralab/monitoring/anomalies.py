"""Personal anomaly detection on wearable streams, with an alert budget.

Why personal and why a budget: resting heart rate differs by 30 bpm between healthy people and
by 5-10 bpm across one person's day, so a population threshold either misses everything or
alerts all the time. The Stanford wearables work (Mishra et al., Nat Biomed Eng 2020) detected
COVID-19 from *resting* heart rate rising above the person's own baseline; but a default
CUSUM on the participant shipped in ``../shared/data/monitoring/wearable`` alerted on 28 of 91
days, which no clinician would read. So:

1. **Resting heart rate** (:func:`resting_heart_rate`): minutes whose heart rate is not
   explained by activity, i.e. no steps in the preceding 12 minutes (Mishra et al.'s RHR
   definition), averaged per hour.
2. **Time-of-day baseline** (:func:`baseline_residuals`): each hour is compared with the
   median and MAD of the same hour-of-day bin over the previous 28 days (never the current day),
   so the night dip and afternoon rise are not anomalies.
3. **Detectors** on the standardised residuals: one-sided CUSUM (:class:`Cusum`, Page 1954)
   for sustained rises, a robust z-score for spikes, and a streaming multivariate Mahalanobis
   detector (:class:`StreamingMahalanobis`) for joint RHR/activity changes.
4. **Alert budget** (:func:`calibrate_threshold`): the CUSUM decision limit is set from the
   person's own calibration period so that at most ``budget`` days per 30 would alert under
   their usual variability; alerts are counted as alert-days.

Chronic-disease trend metrics (CGM, blood pressure) are in :mod:`theralab.monitoring.chronic`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from theralab.errors import InputError

MAD_TO_SD = 1.4826


def load_fitbit(hr_path: str | Path, steps_path: str | Path) -> pd.DataFrame:
    """Minute-level Fitbit export (``datetime,heartrate`` and ``datetime,steps`` CSV or .csv.zip)
    merged on the minute; minutes without steps rows count as 0 steps."""
    frames = []
    for path, col in ((hr_path, "heartrate"), (steps_path, "steps")):
        p = Path(path)
        if not p.is_file():
            raise InputError(f"no such file {p}", where=str(p))
        df = pd.read_csv(p)
        if "datetime" not in df.columns or col not in df.columns:
            raise InputError(f"{p.name} needs columns 'datetime' and '{col}'", where=str(p))
        df = df[["datetime", col]].copy()
        df["datetime"] = pd.to_datetime(df["datetime"]).dt.floor("min")
        frames.append(df.groupby("datetime")[col].mean())
    out = pd.concat(frames, axis=1).sort_index()
    out["steps"] = out["steps"].fillna(0.0)
    return out


def resting_heart_rate(minutes: pd.DataFrame, still_minutes: int = 12, freq: str = "1h") -> pd.Series:
    """Resting heart rate per ``freq`` period from minute HR and steps.

    A minute counts as resting when there were no steps in it and in the ``still_minutes``
    before it (Mishra et al. 2020 used 12 minutes). Heart rates outside 25-220 bpm are dropped
    as sensor errors.
    """
    if not {"heartrate", "steps"} <= set(minutes.columns):
        raise InputError("need columns 'heartrate' and 'steps'", where="minutes")
    m = minutes.asfreq("min")
    steps = m["steps"].fillna(0.0)
    moving = steps.rolling(still_minutes + 1, min_periods=1).sum() > 0
    hr = m["heartrate"].where(~moving & m["heartrate"].between(25, 220))
    return hr.resample(freq).mean().dropna()


def baseline_residuals(
    series: pd.Series, window_days: int = 28, bin_hours: int = 4, min_points: int = 10
) -> pd.DataFrame:
    """Standardised residuals of a time series against its own trailing time-of-day baseline.

    For each point, the baseline is the median and MAD of points in the same ``bin_hours``
    time-of-day bin within the previous ``window_days`` days, excluding the point's own day so a
    developing illness does not raise its own baseline. Points with fewer than ``min_points``
    history are left as NaN (the detector is warming up).

    Returns:
        DataFrame with value, baseline, scale and z (robust z-score).
    """
    s = series.dropna().sort_index()
    if s.empty:
        raise InputError("empty series", where="series")
    df = pd.DataFrame({"value": s})
    df["day"] = df.index.normalize()
    df["bin"] = df.index.hour // bin_hours
    base = np.full(len(df), np.nan)
    scale = np.full(len(df), np.nan)
    days = df["day"].to_numpy()
    bins = df["bin"].to_numpy()
    vals = df["value"].to_numpy()
    for b in np.unique(bins):
        idx = np.flatnonzero(bins == b)
        d, v = days[idx], vals[idx]
        for day in np.unique(d):
            hist = (d < day) & (d >= day - np.timedelta64(window_days, "D"))
            if hist.sum() < min_points:
                continue
            h = v[hist]
            med = np.median(h)
            mad = MAD_TO_SD * np.median(np.abs(h - med))
            here = idx[d == day]
            base[here] = med
            scale[here] = max(mad, 1.0)  # floor of 1 bpm: a perfectly flat history is not infinitely precise
    df["baseline"] = base
    df["scale"] = scale
    df["z"] = (df["value"] - df["baseline"]) / df["scale"]
    return df.drop(columns=["day", "bin"])


@dataclass
class Cusum:
    """One-sided (upper) CUSUM on standardised residuals: S = max(0, S + z - k); alarm at S > h.

    Why CUSUM: it is the optimal detector of a sustained mean shift of size ~2k (Page 1954;
    Lorden 1971), exactly the signature of resting heart rate rising with an infection. After an
    alarm the statistic restarts at 0, so a long episode alerts again only after re-accumulating.
    """

    k: float = 0.5
    h: float = 8.0
    s: float = 0.0

    def update(self, z: float) -> tuple[float, bool]:
        if not np.isfinite(z):
            return self.s, False
        self.s = max(0.0, self.s + float(z) - self.k)
        if self.s > self.h:
            self.s = 0.0
            return self.h, True
        return self.s, False

    def run(self, zs: Iterable[float]) -> tuple[np.ndarray, np.ndarray]:
        """Statistic before reset and alarm flag for each residual."""
        stat, alarm = [], []
        for z in zs:
            s_before = max(0.0, self.s + float(z) - self.k) if np.isfinite(z) else self.s
            _, a = self.update(z)
            stat.append(s_before)
            alarm.append(a)
        return np.asarray(stat), np.asarray(alarm)


def robust_z_alarms(z: np.ndarray, threshold: float = 4.0) -> np.ndarray:
    """Spike detector: |robust z| above ``threshold`` (a 4-MAD-sigma event is rare under any
    unimodal distribution, by the Vysochanskii-Petunin inequality < 3 %)."""
    return np.abs(np.nan_to_num(z, nan=0.0)) > threshold


@dataclass
class StreamingMahalanobis:
    """Exponentially weighted mean and covariance; score = squared Mahalanobis distance.

    Why: several signals (RHR residual, steps, sleep) can each look normal while their
    combination does not (high heart rate *without* activity). The model forgets with
    half-life ``halflife`` updates and scores each new vector *before* learning it.
    """

    dim: int
    halflife: float = 24 * 14
    warmup: int = 48
    mean: np.ndarray = field(init=False)
    cov: np.ndarray = field(init=False)
    n: int = 0

    def __post_init__(self) -> None:
        self.mean = np.zeros(self.dim)
        self.cov = np.eye(self.dim)
        self._alpha = 1 - 0.5 ** (1 / self.halflife)

    def update(self, x: np.ndarray) -> float:
        """Score ``x`` (NaN while warming up), then fold it into the model."""
        x = np.asarray(x, dtype=float)
        if x.shape != (self.dim,) or not np.all(np.isfinite(x)):
            return float("nan")
        d = x - self.mean
        score = (
            float(d @ np.linalg.solve(self.cov + 1e-6 * np.eye(self.dim), d)) if self.n >= self.warmup else float("nan")
        )
        a = max(self._alpha, 1.0 / (self.n + 1))
        self.mean = self.mean + a * d
        self.cov = (1 - a) * (self.cov + a * np.outer(d, d))
        self.n += 1
        return score


def daily_max(values: pd.Series) -> pd.Series:
    """Largest value per calendar day (the statistic an alert-day depends on)."""
    return values.groupby(values.index.normalize()).max()


def calibrate_threshold(daily_stat: pd.Series | np.ndarray, budget_per_month: float = 2.0, floor: float = 0.0) -> float:
    """Decision limit such that at most ``budget_per_month`` of 30 calibration days exceed it.

    Args:
        daily_stat: the detector's daily maximum over a calibration period (>= 14 days).
        budget_per_month: alert-days per 30 days a typical person may receive.
        floor: never set the limit below this (a statistical minimum for a meaningful alert).

    Raises:
        InputError: too few calibration days or a budget outside (0, 30).
    """
    v = np.asarray(pd.Series(daily_stat).dropna(), dtype=float)
    if v.size < 14:
        raise InputError(
            f"calibration needs >= 14 days, got {v.size}",
            where="daily_stat",
            hint="collect at least two weeks before enabling personal alerts",
        )
    if not 0 < budget_per_month < 30:
        raise InputError(f"budget {budget_per_month} alert-days/month must be in (0, 30)", where="budget_per_month")
    return float(max(floor, np.quantile(v, 1 - budget_per_month / 30.0)))


def count_alert_days(index: pd.DatetimeIndex, alarms: np.ndarray) -> int:
    """Number of distinct calendar days with at least one alarm."""
    return int(index[np.asarray(alarms, dtype=bool)].normalize().nunique())


def calibrate_cusum(
    z: pd.Series, budget_per_month: float = 2.0, k: float = 0.5, floor: float = 5.0, ceiling: float = 500.0
) -> float:
    """Smallest CUSUM decision limit h >= ``floor`` whose alarms on the calibration residuals ``z``
    fall on at most ``budget_per_month`` days per 30 (bisection; alert-days fall as h grows)."""
    days = z.index.normalize().nunique()
    if days < 14:
        raise InputError(
            f"calibration needs >= 14 days, got {days}",
            where="z",
            hint="collect at least two weeks before enabling personal alerts",
        )
    allowed = budget_per_month * days / 30.0

    def n_days(h: float) -> int:
        return count_alert_days(z.index, Cusum(k=k, h=h).run(z.to_numpy())[1])

    if n_days(floor) <= allowed:
        return float(floor)
    lo, hi = floor, ceiling
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if n_days(mid) <= allowed else (mid, hi)
    return float(hi)


@dataclass(frozen=True)
class RHRReport:
    """Outcome of :func:`rhr_alerts` on one person."""

    alert_days: list[str]
    monitored_days: int
    threshold: float
    calibration_days: int
    hourly: pd.DataFrame

    @property
    def alert_days_per_month(self) -> float:
        return 30.0 * len(self.alert_days) / self.monitored_days if self.monitored_days else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {
            "alert_days": self.alert_days,
            "n_alert_days": len(self.alert_days),
            "monitored_days": self.monitored_days,
            "alert_days_per_month": round(self.alert_days_per_month, 2),
            "threshold": round(self.threshold, 3),
            "calibration_days": self.calibration_days,
        }


def rhr_alerts(
    minutes: pd.DataFrame, budget_per_month: float = 2.0, calibration_days: int = 28, k: float = 0.5, floor: float = 5.0
) -> RHRReport:
    """Default personal RHR pipeline: RHR -> time-of-day residuals -> CUSUM with a budgeted limit.

    The first ``calibration_days`` with a baseline calibrate the CUSUM decision limit to the
    budget (:func:`calibrate_cusum`); alerts are then counted on the following days only, out of
    sample. ``floor`` keeps the limit at least 5, the textbook h for k = 0.5.
    """
    rhr = resting_heart_rate(minutes)
    res = baseline_residuals(rhr).dropna(subset=["z"])
    if res.empty:
        raise InputError(
            "not enough history to form a baseline",
            where="minutes",
            hint="personal baselines need at least a few days of resting heart rate",
        )
    z = res["z"].clip(-5, 5)  # one wild hour cannot carry the CUSUM alone
    days = res.index.normalize().unique()
    cal_end = days[min(calibration_days, len(days)) - 1]
    in_cal = res.index.normalize() <= cal_end
    h = calibrate_cusum(z[in_cal], budget_per_month, k, floor)
    stat, alarm = Cusum(k=k, h=h).run(z.to_numpy())
    res["cusum"], res["alarm"] = stat, alarm
    test = res[~in_cal]
    alert_days = sorted({d.strftime("%Y-%m-%d") for d in test.index[test["alarm"].to_numpy()].normalize()})
    return RHRReport(alert_days, int(test.index.normalize().nunique()), h, int(days[days <= cal_end].size), res)


def naive_cusum_alert_days(minutes: pd.DataFrame, k: float = 0.5, h: float = 5.0) -> tuple[int, int]:
    """The naive baseline the issue measured: hourly RHR standardised by the whole record's mean
    and SD (no time of day, no trailing window), CUSUM with textbook k=0.5, h=5 (alert-days, days)."""
    rhr = resting_heart_rate(minutes)
    z = (rhr - rhr.mean()) / rhr.std()
    _, alarm = Cusum(k=k, h=h).run(z.to_numpy())
    days = rhr.index.normalize()
    return int(days[alarm].nunique()), int(days.nunique())


def multivariate_alerts(
    minutes: pd.DataFrame, budget_per_month: float = 2.0, calibration_days: int = 28
) -> tuple[list[str], int, float]:
    """Streaming Mahalanobis detector on hourly [all-minutes HR residual, steps residual], budgeted.

    Why these two: heart rate that rises *with* activity is expected, heart rate that rises
    without it is not; each residual alone (against its own time-of-day baseline) can look
    ordinary while the pair is unusual. The daily maximum score is calibrated on the first
    ``calibration_days`` to the budget (floor: the chi-square 0.999 quantile with 2 degrees of
    freedom, 13.8, so a calm calibration month never makes ordinary hours alert).

    Returns:
        (alert days after calibration, monitored days after calibration, threshold).
    """
    m = minutes.asfreq("min")
    hr = m["heartrate"].where(m["heartrate"].between(25, 220)).resample("1h").mean()
    steps = np.log1p(m["steps"].fillna(0.0).resample("1h").sum())
    zh = baseline_residuals(hr.dropna())["z"]
    zs = baseline_residuals(steps)["z"]  # log steps per hour vs the same time of day (scale floor: 1 log unit)
    both = pd.concat([zh.rename("hr"), zs.rename("steps")], axis=1).dropna().clip(-8, 8)
    if both.empty:
        raise InputError("not enough history for the multivariate detector", where="minutes")
    det = StreamingMahalanobis(dim=2)
    score = pd.Series([det.update(v) for v in both.to_numpy()], index=both.index).dropna()
    days = score.index.normalize().unique()
    cal_end = days[min(calibration_days, len(days)) - 1]
    daily = daily_max(score)
    thr = calibrate_threshold(daily[daily.index <= cal_end], budget_per_month, floor=13.8)
    test = daily[daily.index > cal_end]
    return [d.strftime("%Y-%m-%d") for d in test.index[test.to_numpy() > thr]], int(test.size), thr
