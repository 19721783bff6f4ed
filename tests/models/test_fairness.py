"""The fairness report: metric formulas on hand-computed cases, gaps and flags, and the CLI audit."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from theralab.cli.main import app
from theralab.errors import InputError
from theralab.models.fairness import (
    age_bands,
    auc_score,
    binary_metrics,
    expected_calibration_error,
    fairness_report,
    regression_metrics,
)


def test_metrics_by_hand():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.6, 0.4, 0.8])
    # pairs (pos, neg): (0.4,0.1) win, (0.4,0.6) loss, (0.8,0.1) win, (0.8,0.6) win -> 3/4
    assert auc_score(y, p) == 0.75
    assert auc_score(np.array([0, 1]), np.array([0.5, 0.5])) == 0.5
    m = binary_metrics(y, p, threshold=0.5)
    assert m["brier"] == pytest.approx((0.01 + 0.36 + 0.36 + 0.04) / 4)
    assert m["sensitivity"] == 0.5 and m["fpr"] == 0.5 and m["accuracy"] == 0.5
    assert m["calibration_in_large"] == pytest.approx(0.475 - 0.5)
    # bins: 0.1 -> bin 1 (|0.1-0|), 0.4 -> bin 4 (|0.4-1|), 0.6 -> bin 6 (|0.6-0|), 0.8 -> bin 8 (|0.8-1|)
    assert expected_calibration_error(y, p) == pytest.approx((0.1 + 0.6 + 0.6 + 0.2) / 4)
    r = regression_metrics([1.0, 2.0, 3.0], [2.0, 2.0, 4.0])
    assert r["bias"] == pytest.approx(2 / 3) and r["mae"] == pytest.approx(2 / 3)
    assert r["rmse"] == pytest.approx(np.sqrt(2 / 3))


def test_age_bands():
    assert list(age_bands([5, 18, 64, 65, 80, 99])) == ["0-17", "18-39", "40-64", "65-79", "80+", "80+"]


def test_gap_flagged_for_a_miscalibrated_group():
    rng = np.random.default_rng(1)
    n = 2000
    sex = rng.choice(["F", "M"], n)
    risk = rng.uniform(0.05, 0.6, n)
    y = (rng.uniform(size=n) < risk).astype(int)
    pred = np.where(sex == "F", np.clip(risk * 0.5, 0, 1), risk)  # women's risk halved: under-predicted
    report = fairness_report(y, pred, {"sex": sex, "site": np.where(np.arange(n) < 10, "tiny", "big")})
    cal = report.groups["sex"]
    assert cal["F"]["calibration_in_large"] < -0.1 and abs(cal["M"]["calibration_in_large"]) < 0.03
    assert report.gaps["sex"]["calibration_in_large"] > 0.1
    assert any(f.startswith("sex: calibration_in_large") for f in report.flags)
    assert any("site=tiny: only 10 rows" in f for f in report.flags)
    assert "calibration_in_large" not in report.gaps["site"]  # the small group is not compared
    fair = fairness_report(y, risk, {"sex": sex})
    assert not [f for f in fair.flags if "calibration" in f]


def test_bad_input():
    with pytest.raises(InputError, match="0 or 1"):
        fairness_report([0, 2], [0.1, 0.2], {"g": ["a", "b"]})
    with pytest.raises(InputError, match="probabilities"):
        fairness_report([0, 1], [0.1, 1.2], {"g": ["a", "b"]})
    with pytest.raises(InputError, match="equal length"):
        fairness_report([0, 1], [0.1], {"g": ["a", "b"]})


def test_cli_audit_on_a_score_column(tmp_path):
    rng = np.random.default_rng(2)
    n = 400
    frame = pd.DataFrame({"age": rng.integers(20, 90, n), "sex": rng.choice(["F", "M"], n)})
    frame["p"] = rng.uniform(0, 1, n)
    frame["label"] = (rng.uniform(size=n) < frame["p"]).astype(int)
    data = tmp_path / "cohort.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["models", "audit", "-", "--data", str(data), "--group", "sex", "--group", "age",
                                      "--score", "p", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert set(report["groups"]["age"]) <= {"18-39", "40-64", "65-79", "80+"}
    assert sum(g["n"] for g in report["groups"]["sex"].values()) == n
    bad = CliRunner().invoke(app, ["models", "audit", "-", "--data", str(data), "--group", "nope", "--score", "p"])
    assert bad.exit_code == 2 and "nope" in bad.output
