"""``theralab dti train|predict|bind`` through the real CLI app on a made-up 6 x 4 pair set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from theralab.cli.main import app

runner = CliRunner()
DRUGS = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "CCN(CC)CC", "CC(C)Cc1ccc(C(C)C(=O)O)cc1", "OC(=O)c1ccccc1"]
TARGETS = ["".join(np.random.default_rng(s).choice(list("ACDEFGHIKLMNPQRSTVWY"), 50)) for s in range(4)]


def test_train_predict_bind(tl_env, tmp_path: Path) -> None:
    rows = [(s, t, 5 + 0.4 * i + 0.7 * j) for i, s in enumerate(DRUGS) for j, t in enumerate(TARGETS)]
    rows.append(("C1CC", TARGETS[0], 6.0))  # bad SMILES: skipped with its reason
    pd.DataFrame(rows, columns=["smiles", "sequence", "affinity"]).to_csv(tmp_path / "pairs.csv", index=False)
    out = tmp_path / "model"
    net = json.dumps({"hidden": 8, "layers": 2, "out": 8, "protein": "kmer", "head": [16]})
    result = runner.invoke(app, ["dti", "train", str(tmp_path / "pairs.csv"), "-o", str(out), "--epochs", "3",
                                 "--batch-size", "8", "--split", "cold-drug", "--network", net, "--name", "dti-cli"])
    assert result.exit_code == 0, result.output
    assert "skipped row 25" in result.output and (out / "checkpoints" / "member0.ckpt.pt").exists()
    card = json.loads((out / "model.json").read_text())
    assert card["metrics"]["split"] == "cold-drug" and 0 <= card["metrics"]["test_ci"] <= 1

    (tmp_path / "t.fasta").write_text(f">T1 test kinase\n{TARGETS[1][:25]}\n{TARGETS[1][25:]}\n")
    (tmp_path / "lib.smi").write_text("CCO ethanol\nnot_a_smiles broken\nc1ccccc1O phenol\n")
    ranked = tmp_path / "ranked.csv"
    result = runner.invoke(app, ["dti", "predict", str(tmp_path / "lib.smi"), "-t", str(tmp_path / "t.fasta"),
                                 "-m", "dti-cli", "-o", str(ranked)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(ranked, keep_default_na=False)
    assert table["rank"].tolist() == [1, 2, 3] and table["id"].iloc[-1] == "broken"
    assert table["error"].iloc[-1] != "" and bool(table["in_domain"].iloc[0])
    assert table["nearest_target"].iloc[0] == "target1"  # the FASTA is training target 1

    result = runner.invoke(app, ["dti", "predict", str(tmp_path / "lib.smi"), "-t", "MKV1L", "-m", "dti-cli",
                                 "-o", str(ranked)])
    assert result.exit_code == 2 and "non-amino-acid" in result.output

    result = runner.invoke(app, ["dti", "bind", "dti-cli", "-t", str(tmp_path / "t.fasta"), "-o", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    from theralab.models.base import load_predictor

    scores = load_predictor("dti-cli-T1").predict(["CCO"])
    ethanol = float(table.loc[table["id"] == "ethanol", "affinity"].iloc[0])
    assert np.isclose(scores.loc[0, "affinity"], ethanol, atol=1e-4)
