"""Metrics and calibration checked against values computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from theralab.trials.outcome.models.calibration import best_threshold, f1_at, fit_calibrator, logit, metrics


def test_f1_by_hand():
    probs = np.array([0.9, 0.8, 0.4, 0.3, 0.6])
    labels = np.array([1, 0, 1, 0, 1])
    # at 0.5: predicted 1,1,0,0,1 -> tp 2, fp 1, fn 1 -> F1 = 4 / 6
    assert f1_at(probs, labels, 0.5) == pytest.approx(4 / 6)
    # at 0.35: tp 3, fp 1, fn 0 -> 6 / 7
    assert f1_at(probs, labels, 0.35) == pytest.approx(6 / 7)
    assert best_threshold(probs, labels) == pytest.approx(0.4)  # 0.3: 6/8, 0.4: 6/7, 0.6: 4/6


def test_auc_and_average_precision_by_hand():
    m = metrics(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1]))
    assert m["roc_auc"] == pytest.approx(0.75)  # 3 of 4 positive-negative pairs ordered
    # ranking 0.8(+) 0.4(-) 0.35(+) 0.1(-): AP = (1/1 + 2/3) / 2
    assert m["pr_auc"] == pytest.approx((1 + 2 / 3) / 2)
    assert m["brier"] == pytest.approx(np.mean([0.01, 0.16, 0.4225, 0.04]))


def test_platt_recovers_a_known_map():
    rng = np.random.default_rng(0)
    s = rng.uniform(0.05, 0.95, 20000)
    true = 1 / (1 + np.exp(-(0.5 * logit(s) - 0.3)))
    y = (rng.uniform(size=s.size) < true).astype(int)
    cal = fit_calibrator(s, y, "platt")
    assert cal.a == pytest.approx(0.5, abs=0.05) and cal.b == pytest.approx(-0.3, abs=0.05)


def test_isotonic_is_monotone_and_reaches_the_extremes():
    s = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    y = np.array([0, 0, 1, 0, 1, 1])
    cal = fit_calibrator(s, y, "isotonic")
    out = cal(np.linspace(0, 1, 11))
    assert np.all(np.diff(out) >= -1e-12)
    assert cal(np.array([0.1]))[0] == 0 and cal(np.array([0.6]))[0] == 1
    assert cal(np.array([0.35]))[0] == pytest.approx(0.5)  # 0.3 and 0.4 pooled: (1 + 0) / 2
