"""The multi-seed summary's statistics, checked against hand-computed values."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "admet_seeds.py"


def _module():
    spec = importlib.util.spec_from_file_location("admet_seeds", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mean_sd_and_paired_t_by_hand():
    runs = [{"ESOL": {"task": "regression", "n_test": 113, "published_chemprop": 0.555, "ours-lgbm": a,
                      "ours-ens": a, "rf-ecfp": a + 0.1, "chemprop": c}}
            for a, c in ((0.6, 0.7), (0.7, 0.8), (0.65, 0.7))]
    e = _module().summarise(runs)["ESOL"]
    assert e["ours-lgbm"][0] == pytest.approx(0.65) and e["ours-lgbm"][1] == pytest.approx(0.05)
    diff, sd, t_p, _w, better = e["vs chemprop"]["ours-lgbm"]
    assert better == 3  # lower RMSE than the Chemprop arm on all three seeds
    # differences -0.1, -0.1, -0.05: mean -1/12, SD sqrt(1/1200), t = -5 on 2 df;
    # two-sided p = 1 - 5 / sqrt(27) (Student t with 2 df has CDF 1/2 + t / (2 sqrt(2 + t^2)))
    assert diff == pytest.approx(-1 / 12) and sd == pytest.approx((1 / 1200) ** 0.5)
    assert t_p == pytest.approx(1 - 5 / 27 ** 0.5, rel=1e-9)


def test_wins_count_higher_auroc_as_better():
    runs = [{"BBBP": {"task": "classification", "n_test": 205, "ours-lgbm": a, "ours-ens": a, "rf-ecfp": a,
                      "chemprop": c}} for a, c in ((0.90, 0.92), (0.95, 0.91), (0.93, 0.92))]
    assert _module().summarise(runs)["BBBP"]["vs chemprop"]["ours-lgbm"][4] == 2


def test_without_chemprop_the_arms_are_tested_against_the_random_forest():
    runs = [{"BBBP": {"task": "classification", "n_test": 205, "ours-lgbm": a, "rf-ecfp": r}}
            for a, r in ((0.90, 0.88), (0.95, 0.91), (0.93, 0.94))]
    e = _module().summarise(runs)["BBBP"]
    assert "vs chemprop" not in e
    diff, _sd, _t, _w, better = e["vs rf-ecfp"]["ours-lgbm"]
    assert diff == pytest.approx(0.05 / 3) and better == 2


def test_an_arm_is_reproduced_within_two_sd_or_better_but_not_worse():
    reproduces = _module().reproduces
    assert reproduces(0.716, 0.033, 0.555, "regression").startswith("NOT reproduced")  # ESOL, first session
    assert reproduces(0.60, 0.03, 0.555, "regression").startswith("reproduced")
    assert reproduces(0.83, 0.10, 1.075, "regression").startswith("better")
    assert reproduces(0.95, 0.01, 0.90, "classification").startswith("better")
