"""``theralab admet predict|train|evaluate|explain`` through the real CLI app."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from theralab.cli.main import app

runner = CliRunner()


def test_predict_panel_keeps_bad_rows(tmp_path: Path) -> None:
    pytest.importorskip("admet_ai")
    src = tmp_path / "in.csv"
    pd.DataFrame({"id": ["asp", "bad", "caf"],
                  "smiles": ["CC(=O)Oc1ccccc1C(=O)O", "C1CC", "Cn1cnc2c1c(=O)n(C)c(=O)n2C"]}).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["admet", "predict", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, keep_default_na=False)
    assert table["id"].tolist() == ["asp", "bad", "caf"]
    assert table["error"].iloc[1] != "" and table["error"].iloc[0] == ""
    assert len([c for c in table.columns if c.endswith("_drugbank_approved_percentile")]) == 52
    assert 0 <= float(table["hERG"].iloc[2]) <= 1


def test_train_evaluate_explain(tmp_path: Path, tl_env, shared_data) -> None:
    data = tmp_path / "esol.csv"
    pd.read_csv(shared_data / "discovery" / "moleculenet" / "delaney.csv").sample(150, random_state=0).to_csv(
        data, index=False)
    model = tmp_path / "esol-model"
    result = runner.invoke(app, ["admet", "train", str(data), "--target", "logp", "--split", "random",
                                 "--members", "1", "-o", str(model), "--name", "esol-test"])
    assert result.exit_code == 0, result.output
    assert "rmse" in result.output and "registered" in result.output
    card = json.loads((model / "model.json").read_text())
    assert card["name"] == "esol-test" and card["task"] == "admet.regression"
    result = runner.invoke(app, ["admet", "evaluate", "esol-test", str(data), "--json"])  # by registry name
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)["logp"]
    assert metrics["n_test"] == 150 and metrics["r2"] > 0.5
    svg = tmp_path / "h.svg"
    result = runner.invoke(app, ["admet", "explain", str(model), "c1ccccc1O", "-o", str(svg)])
    assert result.exit_code == 0, result.output
    assert svg.read_text().lstrip().startswith("<svg")
    out = tmp_path / "pred.parquet"
    result = runner.invoke(app, ["admet", "predict", str(data), "--model", "esol-test", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert {"logp", "logp_lower", "logp_upper", "nearest_train_tanimoto"} <= set(pd.read_parquet(out).columns)


def test_train_errors_are_red_and_exit_2(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    pd.DataFrame({"smiles": ["CCO", "CCC"], "y": [1.0, 2.0]}).to_csv(data, index=False)
    result = runner.invoke(app, ["admet", "train", str(data), "--target", "nope", "-o", str(tmp_path / "m")])
    assert result.exit_code == 2 and "not in the data" in result.output
    result = runner.invoke(app, ["admet", "train", str(data), "--target", "y", "-o", str(tmp_path / "m")])
    assert result.exit_code == 2 and "too few" in result.output


def test_predict_keeps_rdkit_warnings_in_the_row(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("admet_ai")
    src = tmp_path / "in.csv"
    pd.DataFrame({"id": ["proton", "caf"], "smiles": ["CC[NH3+].[H+]", "Cn1cnc2c1c(=O)n(C)c(=O)n2C"]}).to_csv(
        src, index=False)
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["admet", "predict", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, keep_default_na=False)
    assert list(table.columns[:5]) == ["row", "id", "smiles", "error", "warnings"]
    assert table["warnings"].tolist() == ["WARNING: not removing hydrogen atom without neighbors", ""]
    assert "WARNING" not in capfd.readouterr().err and "WARNING" not in result.output
