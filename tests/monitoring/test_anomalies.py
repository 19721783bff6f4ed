"""Personal baselines, streaming detectors, alert budget, CGM and blood-pressure metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from theralab.errors import InputError
from theralab.monitoring.anomalies import (
    Cusum,
    StreamingMahalanobis,
    baseline_residuals,
    calibrate_cusum,
    calibrate_threshold,
    load_fitbit,
    multivariate_alerts,
    naive_cusum_alert_days,
    resting_heart_rate,
    rhr_alerts,
    robust_z_alarms,
)
from theralab.monitoring.chronic import bp_category, bp_control, cgm_metrics, cgm_targets_met, trend


def test_cusum_alarm_time_is_exact():
    # k = 0.5: after a step to z = 1.5 the statistic grows by 1.0 per sample; h = 5 -> alarm on the 6th
    z = np.r_[np.zeros(20), np.full(10, 1.5)]
    _, alarm = Cusum(k=0.5, h=5.0).run(z)
    assert np.flatnonzero(alarm).tolist() == [25]
    # NaN (missing hour) leaves the statistic untouched
    c = Cusum(k=0.5, h=5.0)
    c.update(2.0)
    assert c.update(float("nan")) == (1.5, False)


def test_robust_z():
    assert robust_z_alarms(np.array([0.0, 3.9, -4.1, np.nan, 4.2])).tolist() == [False, False, True, False, True]


def _diurnal_minutes(days: int = 40, seed: int = 0) -> pd.DataFrame:
    idx = pd.date_range("2021-01-01", periods=days * 1440, freq="min")
    rng = np.random.default_rng(seed)
    hour = idx.hour.to_numpy() + idx.minute.to_numpy() / 60
    hr = 60 + 8 * np.sin(2 * np.pi * (hour - 9) / 24) + rng.normal(0, 2, idx.size)
    steps = np.zeros(idx.size)
    walking = (idx.hour.to_numpy() == 12) & (idx.minute.to_numpy() < 30)  # a daily walk at noon
    steps[walking] = 100
    hr[walking] += 40
    return pd.DataFrame({"heartrate": hr, "steps": steps}, index=idx)


def test_resting_heart_rate_excludes_activity_and_its_recovery():
    m = _diurnal_minutes(3)
    rhr = resting_heart_rate(m, freq="1min")
    noon = rhr[(rhr.index.hour == 12) & (rhr.index.minute < 42)]
    assert noon.empty  # walking minutes (to 12:29) and the 12 still minutes after them are not resting
    assert pd.Timestamp("2021-01-01 12:42") in rhr.index
    assert rhr.max() < 75


def test_time_of_day_baseline_removes_the_daily_cycle():
    rhr = resting_heart_rate(_diurnal_minutes(40))
    res = baseline_residuals(rhr).dropna()
    naive = (rhr - rhr.mean()) / rhr.std()
    # the diurnal swing (+-8 bpm) dominates the naive z; the time-of-day residuals are near N(0, 1)
    assert abs(res["z"].median()) < 0.3 and res["z"].abs().quantile(0.95) < 3.0
    assert naive.abs().quantile(0.95) > 1.3
    # no leakage: the first day has no baseline
    assert res.index.min().normalize() > rhr.index.min().normalize()


def test_calibrate_threshold_quantile_and_errors():
    v = np.arange(30, dtype=float)  # 0..29
    assert calibrate_threshold(v, budget_per_month=3) == pytest.approx(np.quantile(v, 0.9))
    assert calibrate_threshold(v, 3, floor=50) == 50
    with pytest.raises(InputError):
        calibrate_threshold(v[:10])
    with pytest.raises(InputError):
        calibrate_threshold(v, budget_per_month=31)


def test_calibrate_cusum_meets_budget():
    idx = pd.date_range("2021-01-01", periods=30 * 24, freq="h")
    z = pd.Series(np.random.default_rng(5).standard_t(3, idx.size) + 0.3, index=idx)
    h = calibrate_cusum(z, budget_per_month=2)
    _, alarm = Cusum(h=h).run(z.to_numpy())
    assert idx[alarm].normalize().nunique() <= 2
    _, alarm_lower = Cusum(h=h * 0.7).run(z.to_numpy())
    assert idx[alarm_lower].normalize().nunique() > 2  # h is (close to) the smallest that meets it


def test_streaming_mahalanobis_flags_joint_outlier():
    rng = np.random.default_rng(2)
    cov = np.array([[1.0, 0.9], [0.9, 1.0]])
    det = StreamingMahalanobis(dim=2, halflife=500, warmup=100)
    for x in rng.multivariate_normal([0, 0], cov, 1000):
        det.update(x)
    # each coordinate is ordinary (|x| = 1.5) but they disagree although they usually move together
    assert det.update(np.array([1.5, -1.5])) > stats.chi2.ppf(0.999, 2)
    assert det.update(np.array([1.0, 1.0])) < stats.chi2.ppf(0.99, 2)
    assert np.isnan(det.update(np.array([np.nan, 0.0])))


def test_fitbit_participant_alert_budget(shared_data):
    w = shared_data / "monitoring" / "wearable"
    m = load_fitbit(w / "A4G0044_hr.csv.zip", w / "A4G0044_steps.csv.zip")
    assert m.index.normalize().nunique() == 91
    naive, days = naive_cusum_alert_days(m)
    assert (naive, days) == (18, 91)  # the naive detector alerts on a fifth of days
    r = rhr_alerts(m, budget_per_month=2.0)
    # measured out of sample (60 days after 28 calibration days): 3 alert-days = 1.5 per month
    assert r.calibration_days == 28 and r.monitored_days == 60
    assert r.alert_days == ["2021-02-11", "2021-02-15", "2021-02-18"]
    assert r.alert_days_per_month == pytest.approx(1.5)
    # the multivariate detector (HR and steps residuals), same budget, also out of sample
    days, n, thr = multivariate_alerts(m, budget_per_month=2.0)
    assert days == ["2021-01-25", "2021-02-01"] and n == 58 and thr > 13.8


def test_cgm_metrics_exact():
    g = [50, 60, 70, 100, 180, 181, 250, 251, 120, 140]
    m = cgm_metrics(g)
    assert m["tir_pct"] == 50.0 and m["tbr70_pct"] == 20.0 and m["tbr54_pct"] == 10.0
    assert m["tar180_pct"] == 30.0 and m["tar250_pct"] == 10.0
    assert m["mean_mgdl"] == pytest.approx(140.2)
    assert m["gmi_pct"] == pytest.approx(3.31 + 0.02392 * 140.2)
    assert m["cv_pct"] == pytest.approx(100 * np.std(g, ddof=1) / np.mean(g))
    mmol = cgm_metrics(np.array(g) / 18.018, unit="mmol/L")
    assert mmol["mean_mgdl"] == pytest.approx(140.2)
    ok = cgm_targets_met(m)
    assert ok["tir_pct"] is False and ok["tbr54_pct"] is False


def test_cgm_rejects_wrong_unit_and_reports_activity():
    with pytest.raises(InputError) as e:
        cgm_metrics([5.5, 6.0, 7.2])  # mmol/L sent as mg/dL
    assert e.value.where == "glucose[0]"
    t = pd.date_range("2021-01-01", periods=10, freq="10min")  # 5-min sensor, every other reading lost
    assert cgm_metrics([100] * 10, times=t)["active_pct"] == pytest.approx(100 * 10 / 19)


def test_bp_control_and_trend():
    assert bp_category(118, 76) == "normal" and bp_category(125, 79) == "elevated"
    assert bp_category(132, 70) == "stage 1 hypertension" and bp_category(150, 85) == "stage 2 hypertension"
    assert bp_category(185, 100) == "hypertensive crisis"
    t = pd.date_range("2021-01-01", periods=28, freq="D")
    sbp = 150 - 0.5 * np.arange(28)  # falling 3.5 mmHg per week
    r = bp_control(sbp, sbp - 60, times=t)
    assert r["systolic_trend"]["slope"] == pytest.approx(-3.5) and r["systolic_trend"]["significant"]
    assert r["at_target_pct"] == pytest.approx(100 * np.mean(sbp < 130))
    with pytest.raises(InputError) as e:
        bp_control([120, 80], [80, 120])
    assert e.value.where == "reading 1"
    assert trend([1, 1, 1], t[:3]).significant is False
