"""``theralab pk | dissolution | ddi`` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from theralab.cli.main import app

runner = CliRunner()


def run(*args: str):  # noqa: ANN201
    return runner.invoke(app, list(args))


def test_groups_have_teaching_help() -> None:
    for group in ("pk", "dissolution", "ddi"):
        res = run(group, "--help")
        assert res.exit_code == 0 and "Example" in res.output


def test_pk_simulate_writes_curve(tmp_path: Path) -> None:
    out = tmp_path / "curve.csv"
    res = run(
        "pk",
        "simulate",
        "--cl",
        "5",
        "--v1",
        "50",
        "--ka",
        "1",
        "--dose",
        "500",
        "--route",
        "oral",
        "--t-end",
        "10",
        "--n-points",
        "1001",
        "-o",
        str(out),
    )
    assert res.exit_code == 0, res.output
    curve = pd.read_csv(out)
    assert curve.conc.max() == pytest.approx(7.7426, abs=1e-3)  # grid step 0.01 h around tmax 2.5584
    assert "7.74" in res.output


def test_pk_fit_and_nca_on_theophylline(reference_data: Path, tmp_path: Path) -> None:
    data = reference_data / "development" / "pk" / "theoph_subject1.csv"
    js = tmp_path / "fit.json"
    res = run("pk", "fit", str(data), "--dose", "4.02", "--time-col", "Time", "--json", str(js))
    assert res.exit_code == 0, res.output
    assert json.loads(js.read_text())["estimates"]["lKe"] == pytest.approx(-2.9196, abs=5e-5)
    out = tmp_path / "nca.csv"
    res = run(
        "pk",
        "nca",
        str(data),
        "--dose",
        "4.02",
        "--time-col",
        "Time",
        "--lambda-z-points",
        "3",
        "-o",
        str(out),
    )
    assert res.exit_code == 0, res.output
    assert pd.read_csv(out).auc_inf[0] == pytest.approx(216.6, abs=0.05)


def test_pk_regimen_and_bad_input() -> None:
    res = run("pk", "regimen", "--cl", "5", "--v1", "50", "--ka", "1", "--low", "5", "--high", "10")
    assert res.exit_code == 0 and "yes" in res.output
    res = run("pk", "simulate", "--cl", "5", "--v1", "50", "--dose", "0")
    assert res.exit_code == 2 and "dose amount must be > 0" in res.output


def test_pk_nca_unsorted_times_exit_2(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("time,conc\n0,1\n2,3\n1,2\n")
    res = run("pk", "nca", str(f))
    assert res.exit_code == 2 and "strictly increasing" in res.output


def test_dissolution_compare_and_fit(reference_data: Path, tmp_path: Path) -> None:
    d = reference_data / "development" / "dissolution"
    js = tmp_path / "cmp.json"
    res = run(
        "dissolution",
        "compare",
        str(d / "shah1998_ref.csv"),
        str(d / "shah1998_test2.csv"),
        "--json",
        str(js),
    )
    assert res.exit_code == 0, res.output
    body = json.loads(js.read_text())
    assert body["f2"] == pytest.approx(51.08, abs=5e-3) and body["f1"] == pytest.approx(13.21, abs=5e-3)
    out = tmp_path / "fit.csv"
    res = run("dissolution", "fit", str(d / "shah1998_ref.csv"), "--models", "first_order,weibull", "-o", str(out))
    assert res.exit_code == 0, res.output
    assert set(pd.read_csv(out).model) == {"first_order", "weibull"}


def test_ddi_check(tmp_path: Path) -> None:
    js = tmp_path / "ddi.json"
    res = run("ddi", "check", "ketoconazole", "midazolam", "--json", str(js))
    assert res.exit_code == 0, res.output
    assert json.loads(js.read_text())["flagged"][0]["victim"] == "midazolam"
    res = run("ddi", "check", "foo", "bar")
    assert res.exit_code == 2
    res = run("ddi", "basic", "--imax-u", "1", "--ki-u", "0.5")
    assert res.exit_code == 0 and "R1 3 >= 1.02" in res.output


def test_pk_population_and_nca_iv_route(tmp_path: Path) -> None:
    out = tmp_path / "pop.csv"
    res = run(
        "pk",
        "population",
        "--cl",
        "5",
        "--v1",
        "50",
        "--ka",
        "1",
        "--dose",
        "500",
        "--n-subjects",
        "50",
        "--omega",
        "cl=0.09",
        "-o",
        str(out),
    )
    assert res.exit_code == 0, res.output
    sim = pd.read_csv(out)
    assert sim.id.nunique() == 50 and sim.groupby("id").v1.first().nunique() == 1  # IIV on CL only
    res = run("pk", "population", "--cl", "5", "--v1", "50", "--dose", "5", "--omega", "cl")
    assert res.exit_code == 2 and "--omega" in res.output
    f = tmp_path / "iv.csv"
    f.write_text("time,conc\n0.5,9.048\n1,8.187\n2,6.703\n4,4.493\n8,2.019\n")
    nca_out = tmp_path / "nca.csv"
    res = run("pk", "nca", str(f), "--dose", "100", "--route", "iv_bolus", "-o", str(nca_out))
    assert res.exit_code == 0, res.output
    assert pd.read_csv(nca_out).c0[0] == pytest.approx(10.0, abs=2e-3)


def test_ddi_check_with_user_table(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text(
        "role,drug,enzyme,imax_u,ki_u,fm,source\nperpetrator,drugx,CYP2C19,2,0.5,,assay\n"
        "victim,drugy,CYP2C19,,,0.9,label\n"
    )
    js = tmp_path / "r.json"
    res = run("ddi", "check", "drugx", "drugy", "--table", str(table), "--only-table", "--json", str(js))
    assert res.exit_code == 0, res.output
    assert json.loads(js.read_text())["flagged"][0]["aucr"] == pytest.approx(1 / (0.9 / 5 + 0.1))


def test_pk_fit_other_models_warn_when_overparameterised(reference_data: Path) -> None:
    data = reference_data / "development" / "pk" / "theoph_subject1.csv"
    res = run("pk", "fit", str(data), "--dose", "4.02", "--time-col", "Time", "--model", "1cmt-oral")
    assert res.exit_code == 0 and "0.019923" in res.output and "poorly determined" not in res.output
    res = run("pk", "fit", str(data), "--dose", "4.02", "--time-col", "Time", "--model", "2cmt-oral")
    assert res.exit_code == 0 and "poorly determined" in res.output
    res = run("pk", "fit", str(data), "--dose", "4.02", "--time-col", "Time", "--model", "9cmt")
    assert res.exit_code == 2 and "unknown model" in res.output


def test_dissolution_formulation(tmp_path: Path) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    n = 15
    df = pd.DataFrame({"polymer": rng.uniform(10, 40, n)})
    for t in (15, 30, 60):
        df[f"t{t}"] = 100 * (1 - np.exp(-t / (df.polymer * 2)))
    df.to_csv(tmp_path / "batches.csv", index=False)
    pd.DataFrame({"polymer": [12.0, 38.0]}).to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "pred.csv"
    res = run(
        "dissolution",
        "formulation",
        str(tmp_path / "batches.csv"),
        "--features",
        "polymer",
        "--targets",
        "t15,t30,t60",
        "--method",
        "gbm",
        "--predict",
        str(tmp_path / "new.csv"),
        "-o",
        str(out),
    )
    assert res.exit_code == 0, res.output
    pred = pd.read_csv(out)
    assert pred.t60[0] > pred.t60[1]  # more polymer, slower release
    res = run("dissolution", "formulation", str(tmp_path / "batches.csv"), "--features", "nope", "--targets", "t15")
    assert res.exit_code == 2 and "columns not in the table" in res.output
