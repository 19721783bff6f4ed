"""``theralab risk | oncology | imaging | response`` end to end on small real inputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from theralab.cli.main import app

runner = CliRunner()


def test_risk_prs_reproduces_plink2(shared_data, tmp_path):
    d = shared_data / "precision" / "prs_test"
    out = tmp_path / "scores.tsv"
    r = runner.invoke(app, ["risk", "prs", str(d / "PGS001229_22.txt"), str(d / "cineca_synthetic_subset.bed"),
                            "--name", "PGS001229_22", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "782" in r.output and "47" in r.output
    ours = pd.read_csv(out, sep="\t")
    expected = pd.read_csv(d / "cineca_22_additive_0.sscore", sep="\t")
    np.testing.assert_allclose(ours["PGS001229_22_SUM"], expected["PGS001229_22_SUM"], atol=1e-5)
    assert ours["percentile"].between(0, 100).all()
    refused = runner.invoke(app, ["risk", "prs", str(d / "PGS001229_22.txt"), str(d / "cineca_synthetic_subset.bed"),
                                  "--genotype-build", "GRCh38"])
    assert refused.exit_code == 2 and "GRCh37 but the genotypes are on GRCh38" in refused.output


def test_risk_train_predict_with_fairness(tmp_path):
    rng = np.random.default_rng(0)
    n = 500
    frame = pd.DataFrame({"age": rng.integers(30, 90, n), "sex": rng.choice(["F", "M"], n),
                          "sbp": rng.normal(135, 15, n)})
    logit = 0.05 * (frame["age"] - 60) + 0.03 * (frame["sbp"] - 135) - 1
    frame["event"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    data = tmp_path / "cohort.csv"
    frame.to_csv(data, index=False)
    model_dir = tmp_path / "chd"
    r = runner.invoke(app, ["risk", "train", str(data), "--kind", "logistic", "--target", "event",
                            "--features", "age,sex,sbp", "--group", "sex", "--group", "age", "--out", str(model_dir),
                            "--plot", str(tmp_path / "cal.png")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "cal.png").read_bytes()[:4] == b"\x89PNG"
    card = json.loads((model_dir / "model.json").read_text())
    assert card["metrics"]["auc"] > 0.65 and "sex" in card["fairness"]["groups"]
    preds = tmp_path / "p.csv"
    r = runner.invoke(app, ["risk", "predict", str(model_dir), str(data), "--explain", "--out", str(preds)])
    assert r.exit_code == 0, r.output
    table = pd.read_csv(preds)
    assert table["probability"].between(0, 1).all() and "shap_age" in table.columns
    audit = tmp_path / "audit.json"
    r = runner.invoke(app, ["models", "audit", str(model_dir), "--data", str(data), "--label", "event",
                            "--group", "sex", "--out", str(audit)])
    assert r.exit_code == 0, r.output
    assert sum(g["n"] for g in json.loads(audit.read_text())["groups"]["sex"].values()) == n
    r = runner.invoke(app, ["risk", "train", str(data), "--kind", "cox", "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "--duration" in r.output
    frame["time"] = rng.exponential(5, n) / np.exp(logit)
    frame.to_csv(data, index=False)
    r = runner.invoke(app, ["risk", "train", str(data), "--kind", "cox", "--duration", "time", "--event", "event",
                            "--features", "age,sex,sbp", "--group", "sex", "--out", str(tmp_path / "cox"),
                            "--plot", str(tmp_path / "surv.png")])
    assert r.exit_code == 0, r.output
    assert "c_index_by_group" in r.output and (tmp_path / "surv.png").stat().st_size > 1000
    surv = runner.invoke(app, ["risk", "predict", str(tmp_path / "cox"), str(data), "--horizon", "2",
                               "--out", str(tmp_path / "s.csv")])
    assert surv.exit_code == 0, surv.output
    assert pd.read_csv(tmp_path / "s.csv")["survival_t2"].between(0, 1).all()


def test_oncology_match_cli(tmp_path):
    maf = tmp_path / "t.maf"
    maf.write_text("Hugo_Symbol\tHGVSp_Short\tVariant_Classification\tTumor_Sample_Barcode\n"
                   "EGFR\tp.L858R\tMissense_Mutation\tT1\nEGFR\tp.T790M\tMissense_Mutation\tT1\n")
    out = tmp_path / "report.json"
    r = runner.invoke(app, ["oncology", "match", str(maf), "--tumour", "NSCLC", "--out", str(out)])
    assert r.exit_code == 0, r.output
    report = json.loads(out.read_text())
    assert [m["therapy"] for m in report["tier_I"]] == ["Osimertinib"]
    assert [m["therapy"] for m in report["resistance"]] == ["Gefitinib"]
    r = runner.invoke(app, ["oncology", "kb-check", str(maf)])
    assert r.exit_code == 2


@pytest.mark.slow
def test_response_evaluate_cli(shared_data, tmp_path):
    out = tmp_path / "r.json"
    r = runner.invoke(app, ["response", "evaluate", str(shared_data / "precision" / "drug_response"),
                            "--split", "drug", "--rounds", "40", "--out", str(out)])
    assert r.exit_code == 0, r.output
    res = json.loads(out.read_text())[0]
    assert res["model_pearson"] > res["baseline_pearson"]


def test_risk_prs_reference_panel_by_ancestry(shared_data, tmp_path):
    d = shared_data / "precision" / "prs_test"
    expected = pd.read_csv(d / "cineca_22_additive_0.sscore", sep="\t")
    # a reference panel: plink2's own scores, half labelled A and half B, B shifted up by 1
    ref = pd.DataFrame({"IID": expected["#IID"], "SUM": expected["PGS001229_22_SUM"],
                        "ancestry": np.where(np.arange(len(expected)) % 2, "B", "A")})
    ref.loc[ref["ancestry"] == "B", "SUM"] += 1.0
    ref.to_csv(tmp_path / "ref.tsv", sep="\t", index=False)
    ref[["IID", "ancestry"]].to_csv(tmp_path / "anc.tsv", sep="\t", index=False)
    out = tmp_path / "s.tsv"
    r = runner.invoke(app, ["risk", "prs", str(d / "PGS001229_22.txt"), str(d / "cineca_synthetic_subset.pgen"),
                            "--name", "PGS001229_22", "--reference", str(tmp_path / "ref.tsv"), "--ancestry",
                            str(tmp_path / "anc.tsv"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    scores = pd.read_csv(out, sep="\t")
    group_b = ref["ancestry"].to_numpy() == "B"
    # B's reference is shifted up by 1 (about 3 SD), so B samples sit far lower in their own group
    assert scores.loc[group_b, "z"].mean() < -2.0 and abs(scores.loc[~group_b, "z"].mean()) < 0.1
    assert scores.loc[~group_b, "percentile"].between(0, 100).all()
