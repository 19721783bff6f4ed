"""``theralab screen index`` and ``theralab screen search`` end to end on a small library."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from rdkit import Chem, DataStructs
from typer.testing import CliRunner

from theralab.chem.fingerprints import Fingerprinter, fingerprint_spec
from theralab.cli.screen import app

runner = CliRunner()
LIB = [
    "CC(=O)Nc1ccc(O)cc1 paracetamol",
    "CC(=O)Oc1ccccc1C(=O)O aspirin",
    "O=C(O)c1ccccc1O salicylic",
    "CC(C)Cc1ccc(cc1)C(C)C(=O)O ibuprofen",
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C caffeine",
    "CC(=O)Nc1ccc(OCC)cc1 phenacetin",
    "C1CC broken",
    "Clc1ccc(cc1)C(c1ccccc1)N1CCN(CC1)C chlorcyclizine",
    "CC(=O)Nc1ccc(O)cc1 paracetamol_dup",
]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    lib = root / "lib.smi"
    lib.write_text("\n".join(LIB) + "\n")
    out = root / "idx"
    res = runner.invoke(app, ["index", str(lib), "-o", str(out), "--workers", "1", "--chunk-size", "3"])
    assert res.exit_code == 0, res.output
    assert "invalid rows and reasons" in res.output and "duplicates" in res.output
    return out


def test_index_summary_and_resume_noop(index_dir: Path) -> None:
    lib = index_dir.parent / "lib.smi"
    res = runner.invoke(app, ["index", str(lib), "-o", str(index_dir), "--workers", "1", "--chunk-size", "3"])
    assert res.exit_code == 0
    assert "8" in res.output  # 8 valid molecules
    assert pd.read_csv(index_dir / "invalid.csv")["id"].tolist() == ["broken"]


def test_top_k_search_writes_brute_force_ranking(index_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "hits.csv"
    q = "CC(=O)Nc1ccc(OC)cc1"
    res = runner.invoke(app, ["search", str(index_dir), "--query", q, "--top", "3", "-o", str(out)])
    assert res.exit_code == 0, res.output
    hits = pd.read_csv(out)
    f = Fingerprinter(fingerprint_spec("morgan2"))
    names = [line.split()[1] for line in LIB if line.split()[1] != "broken"]
    mols = [Chem.MolFromSmiles(line.split()[0]) for line in LIB if line.split()[1] != "broken"]
    sims = DataStructs.BulkTanimotoSimilarity(f.bitvect(Chem.MolFromSmiles(q)), [f.bitvect(m) for m in mols])
    expected = sorted(range(len(names)), key=lambda i: (-sims[i], i))[:3]
    assert hits["id"].tolist() == [names[i] for i in expected]
    assert hits["similarity"].tolist() == [sims[i] for i in expected]
    assert hits["rank"].tolist() == [1, 2, 3]


def test_threshold_search_from_query_file(index_dir: Path, tmp_path: Path) -> None:
    qfile = tmp_path / "q.smi"
    qfile.write_text("CC(=O)Nc1ccc(O)cc1 q1\nOC(=O)c1ccccc1O q2\n")
    out = tmp_path / "hits.parquet"
    res = runner.invoke(app, ["search", str(index_dir), "-q", str(qfile), "--threshold", "0.99", "-o", str(out)])
    assert res.exit_code == 0, res.output
    hits = pd.read_parquet(out)
    assert sorted(zip(hits["query"], hits["id"], strict=True)) == [
        ("CC(=O)Nc1ccc(O)cc1", "paracetamol"),
        ("CC(=O)Nc1ccc(O)cc1", "paracetamol_dup"),
        ("OC(=O)c1ccccc1O", "salicylic"),
    ]


def test_substructure_only(index_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "sub.csv"
    res = runner.invoke(app, ["search", str(index_dir), "--substructure", "c1ccccc1C(=O)[OH]", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert pd.read_csv(out)["id"].tolist() == ["aspirin", "salicylic"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--query", "C1CC(", "--top", "3"], "not a valid SMILES"),
        (["--query", "CCO", "--top", "3", "--threshold", "0.5"], "not both"),
        (["--query", "CCO"], "--threshold T or --top K"),
        (["--query", "CCO", "--top", "3", "-o", "hits.xlsx"], "cannot write"),
    ],
)
def test_bad_input_exit_code_2(index_dir: Path, argv: list[str], message: str) -> None:
    res = runner.invoke(app, ["search", str(index_dir), *argv])
    assert res.exit_code == 2
    assert message in res.output


def test_missing_index_and_library(tmp_path: Path) -> None:
    res = runner.invoke(app, ["search", str(tmp_path / "none"), "--query", "CCO", "--top", "1"])
    assert res.exit_code == 2 and "no fingerprint index" in res.output
    res = runner.invoke(app, ["index", str(tmp_path / "none.smi"), "-o", str(tmp_path / "i")])
    assert res.exit_code == 2 and "does not exist" in res.output


def test_screen_run_from_a_toml_file(tl_env, tmp_path):
    from typer.testing import CliRunner

    from theralab.cli.main import app
    from theralab.demo import write_demo_library

    write_demo_library(tmp_path / "lib.csv")
    run = tmp_path / "run.toml"
    run.write_text('[run]\nlibrary = "lib.csv"\noutput_dir = "out"\nchunk_size = 50\n'
                   '[filters]\nrules = ["lipinski"]\n[similarity]\nactives = ["CC(=O)Nc1ccc(O)cc1"]\n'
                   '[diversity]\nmethod = "maxmin"\ntop_n = 5\n')
    runner = CliRunner(env={"COLUMNS": "300"})
    result = runner.invoke(app, ["screen", "run", str(run), "--executor", "local"])
    assert result.exit_code == 0, result.output
    assert "selected" in result.output and (tmp_path / "out" / "report.html").exists()
    assert len((tmp_path / "out" / "hits.csv").read_text().strip().splitlines()) == 6
    run.write_text('[run]\nlibrary = "lib.csv"\nlibary = "typo"\n')
    bad = runner.invoke(app, ["screen", "run", str(run)])
    assert bad.exit_code == 2 and "unknown key 'run.libary'" in bad.output
