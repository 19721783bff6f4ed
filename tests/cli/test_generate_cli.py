"""``theralab generate``: run a small GA from a run file, resume it, refuse bad input, sample a prior."""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd
import torch
from typer.testing import CliRunner

from theralab.cli.main import app
from theralab.discovery.generate.prior import Vocabulary, train_prior

runner = CliRunner()

RUN = """
[run]
optimizer = "ga"
budget = 60
start_smiles = ["CC(=O)Oc1ccccc1C(=O)O", "CN1CCCC1c1cccnc1", "CC(C)Cc1ccc(C(C)C(=O)O)cc1", "CCOC(=O)c1ccccc1"]

[scoring]
[[scoring.components]]
name = "qed"
type = "qed"
[[scoring.components]]
name = "no_sulfur"
type = "substructure"
smarts = "[#16]"
mode = "forbid"

[ga]
population_size = 10
offspring_size = 10
"""


def test_generate_run_writes_ranked_table_and_resumes(tmp_path: Path) -> None:
    run_file = tmp_path / "run.toml"
    run_file.write_text(RUN)
    out = tmp_path / "res.csv"
    res = runner.invoke(app, ["generate", "run", str(run_file), "--out", str(out)])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out)
    assert list(table["rank"][:3]) == [1, 2, 3] and table["score"].is_monotonic_decreasing
    assert {"qed", "qed_raw", "no_sulfur"} <= set(table.columns)
    history = pd.read_csv(tmp_path / "res.history.csv")
    assert len(history) == 60 and history["smiles"].is_unique
    res = runner.invoke(app, ["generate", "run", str(run_file), "--out", str(out), "--resume", "--budget", "90"])
    assert res.exit_code == 0, res.output
    history2 = pd.read_csv(tmp_path / "res.history.csv")
    assert len(history2) == 90 and history2["smiles"].is_unique  # the first 60 were not re-scored
    assert list(history2["smiles"][:60]) == list(history["smiles"])


def test_generate_run_refuses_bad_run_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(RUN.replace('type = "qed"', 'type = "docking"'))
    res = runner.invoke(app, ["generate", "run", str(bad)])
    assert res.exit_code == 2 and "invalid run file" in res.output
    bad.write_text(RUN.replace('smarts = "[#16]"', 'smarts = "[#16"'))
    res = runner.invoke(app, ["generate", "run", str(bad), "--out", str(tmp_path / "x.csv")])
    assert res.exit_code == 2 and "SMARTS does not parse" in res.output


def test_generate_sample_reports_validity(tmp_path: Path) -> None:
    torch.manual_seed(0)
    mols = ["CCO", "CCN", "c1ccccc1", "CC(C)O", "CCCC", "NCc1ccccc1"]
    train_prior(itertools.islice(itertools.cycle(mols), 16 * 60), tmp_path / "p", Vocabulary.build(mols),
                batch_size=16, lr=1e-2, hparams={"embed": 16, "hidden": 32, "layers": 1}, log=lambda *_: None)
    out = tmp_path / "s.smi"
    res = runner.invoke(app, ["generate", "sample", "--n", "50", "--prior", str(tmp_path / "p"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "validity" in res.output and len(out.read_text().splitlines()) == 50


def test_generate_run_rl_checkpoints_agent_and_resumes(tmp_path: Path) -> None:
    torch.manual_seed(0)
    mols = ["CCO", "CCN", "c1ccccc1", "CC(C)O", "CCCC", "NCc1ccccc1", "CCOC", "CC(N)CO"]
    train_prior(itertools.islice(itertools.cycle(mols), 16 * 60), tmp_path / "p", Vocabulary.build(mols),
                batch_size=16, lr=1e-2, hparams={"embed": 16, "hidden": 32, "layers": 1}, log=lambda *_: None)
    run_file = tmp_path / "rl.toml"
    run_file.write_text(f'[run]\noptimizer = "rl"\nbudget = 12\nprior = "{tmp_path / "p"}"\n\n[scoring]\n'
                        '[[scoring.components]]\nname = "qed"\ntype = "qed"\n\n[rl]\nbatch_size = 8\n')
    out = tmp_path / "rl.csv"
    res = runner.invoke(app, ["generate", "run", str(run_file), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "rl.agent.pt").exists() and len(pd.read_csv(tmp_path / "rl.history.csv")) == 12
    res = runner.invoke(app, ["generate", "run", str(run_file), "--out", str(out), "--resume", "--budget", "16"])
    assert res.exit_code == 0, res.output
    history = pd.read_csv(tmp_path / "rl.history.csv")
    assert len(history) == 16 and history["smiles"].is_unique
