"""``theralab trials`` through typer's CliRunner on the real application (reference values as in
tests/trials; the CLI only prints them)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from theralab.cli.main import app

runner = CliRunner()


def test_help_teaches():
    r = runner.invoke(app, ["trials", "--help"])
    assert r.exit_code == 0
    assert "design" in r.output and "safety" in r.output and "meta" in r.output
    r = runner.invoke(app, ["trials", "design", "gsd", "--help"])
    assert r.exit_code == 0 and "Lan-DeMets" in r.output


def test_samplesize_means_json():
    r = runner.invoke(app, ["trials", "design", "samplesize", "means", "--delta", "0.5", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["n1"] == pytest.approx(63.76576371, abs=1e-5) and d["n1_ceil"] == 64


def test_samplesize_proportions_and_survival():
    r = runner.invoke(
        app,
        [
            "trials",
            "design",
            "samplesize",
            "proportions",
            "--p1",
            "0.5",
            "--p2",
            "0.75",
            "--power",
            "0.9",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["n1"] == pytest.approx(76.70692845, abs=1e-5)
    r = runner.invoke(app, ["trials", "design", "samplesize", "survival", "--hr", "0.7", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["details"]["events"] == pytest.approx(246.787105, abs=1e-5)


def test_bad_power_is_a_clear_error():
    r = runner.invoke(app, ["trials", "design", "samplesize", "means", "--delta", "0.5", "--power", "1.5"])
    assert r.exit_code == 2
    assert "power" in r.output and "between 0 and 1" in r.output


def test_gsd_table():
    r = runner.invoke(app, ["trials", "design", "gsd", "--k", "5", "--spending", "ld-of"])
    assert r.exit_code == 0, r.output
    for z in ("4.87688", "3.35701", "2.68028", "2.28982", "2.03103"):
        assert z in r.output
    r = runner.invoke(
        app, ["trials", "design", "gsd", "--k", "3", "--spending", "user", "--alpha-spent", "0.001,0.01,0.04"]
    )
    assert r.exit_code == 2 and "does not sum" in r.output


def test_simulate():
    r = runner.invoke(app, ["trials", "design", "simulate", "--design", "ssr", "--n-sim", "2000"])
    assert r.exit_code == 0, r.output
    assert 0.5 < json.loads(r.output)["rejection_rate"] < 1


def test_meta_bcg(reference_data, tmp_path):
    out = tmp_path / "forest.html"
    r = runner.invoke(
        app,
        [
            "trials",
            "meta",
            str(reference_data / "trials/dat_bcg.csv"),
            "--measure",
            "RR",
            "--method",
            "DL",
            "-o",
            str(out),
            "--funnel",
            str(tmp_path / "funnel.html"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "-0.714117" in r.output and "0.30876" in r.output
    assert out.stat().st_size > 10_000 and "plotly" in out.read_text()[:50_000].lower()
    js = tmp_path / "res.json"
    r = runner.invoke(
        app, ["trials", "meta", str(reference_data / "trials/dat_bcg.csv"), "--method", "REML", "-o", str(js)]
    )
    assert json.loads(js.read_text())["tau2"] == pytest.approx(0.313243, abs=1e-5)


def test_meta_single_study_error(tmp_path):
    f = tmp_path / "one.csv"
    pd.DataFrame({"yi": [0.1], "vi": [0.02]}).to_csv(f, index=False)
    r = runner.invoke(app, ["trials", "meta", str(f), "--measure", "GEN"])
    assert r.exit_code == 2 and "at least 2 studies" in r.output


def test_safety_disproportionality_counts_csv(tmp_path):
    f = tmp_path / "t.csv"
    pd.DataFrame({"drug": ["X"], "event": ["Y"], "a": [20], "b": [380], "c": [80], "d": [9520]}).to_csv(f, index=False)
    r = runner.invoke(app, ["trials", "safety", "disproportionality", str(f), "-o", str(tmp_path / "o.csv")])
    assert r.exit_code == 0, r.output
    o = pd.read_csv(tmp_path / "o.csv")
    assert o.chi2_yates[0] == pytest.approx(63.197075, abs=1e-5) and o.IC025[0] == pytest.approx(1.437231, abs=1e-5)


def test_safety_mgps_caers(shared_data, tmp_path):
    out = tmp_path / "ebgm.csv"
    r = runner.invoke(app, ["trials", "safety", "mgps", str(shared_data / "trials/caers_openEBGM.csv"), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "EB05 > 2: 131 of 17189" in r.output
    df = pd.read_csv(out)
    assert df.iloc[0].drug == "REUMOFAN PLUS" and round(df.iloc[0].EBGM, 2) == 23.26


def test_maxsprt_and_missing_file(tmp_path):
    r = runner.invoke(app, ["trials", "safety", "maxsprt", "--t-max", "10"])
    assert r.exit_code == 0 and "3.4679515" in r.output
    r = runner.invoke(app, ["trials", "safety", "mgps", str(tmp_path / "nope.csv")])
    assert r.exit_code == 2 and "not found" in r.output


def test_gsd_beta_spending_futility():
    r = runner.invoke(
        app,
        [
            "trials",
            "design",
            "gsd",
            "--k",
            "3",
            "--alpha",
            "0.025",
            "--sided",
            "1",
            "--beta-spending",
            "ld-of",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["futility_z"][-1] == d["efficacy_z"][-1] and d["futility_z"][0] < d["futility_z"][1]


def test_safety_report(tmp_path):
    ae = tmp_path / "ae.csv"
    pd.DataFrame({"subject": ["s1", "s2", "s3"], "arm": ["A", "A", "B"], "term": ["Rash", "Rash", "Rash"]}).to_csv(
        ae, index=False
    )
    out = tmp_path / "r.html"
    r = runner.invoke(
        app, ["trials", "safety", "report", str(ae), "--trial", "T1", "--n-by-arm", "A=5,B=5", "-o", str(out)]
    )
    assert r.exit_code == 0, r.output
    assert "Interim safety report: T1" in out.read_text()
    r = runner.invoke(app, ["trials", "safety", "report", str(ae), "--trial", "T1", "--n-by-arm", "A5", "-o", str(out)])
    assert r.exit_code == 2 and "ARM=N" in r.output
