"""``theralab chem profile`` and ``theralab chem depict`` through the real CLI app."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
from rdkit import Chem, rdBase
from typer.testing import CliRunner

from theralab.cli.main import app

CHEM = Path(__file__).resolve().parents[1] / "data" / "chem"
runner = CliRunner()


def test_profile_csv_with_bad_rows(tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    result = runner.invoke(app, ["chem", "profile", str(CHEM / "drugs.csv"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "rows: 7  valid: 4  invalid: 3" in result.stdout
    assert str(tmp_path / "out.invalid.csv") in result.stdout
    assert len(pd.read_parquet(out)) == 4
    assert pd.read_csv(tmp_path / "out.invalid.csv")["row"].tolist() == [3, 5, 6]


def test_profile_options(tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    smi = tmp_path / "in.smi"
    smi.write_text("Oc1ccccn1 hydroxypyridine\nCC(=O)[O-].[Na+] salt\n")
    ok = runner.invoke(app, ["chem", "profile", str(smi), "-o", str(out), "--tautomer"])
    assert ok.exit_code == 0, ok.output
    df = pd.read_csv(out, keep_default_na=False)
    assert df["smiles"].tolist() == ["O=c1cccc[nH]1", "CC(=O)O"]
    assert df.loc[0, "changes"] == "tautomer changed"
    raw = runner.invoke(app, ["chem", "profile", str(smi), "-o", str(out), "--no-standardize"])
    assert raw.exit_code == 0
    assert pd.read_csv(out)["smiles"].tolist() == ["Oc1ccccn1", Chem.CanonSmiles("CC(=O)[O-].[Na+]")]


def test_no_valid_row_exits_2(tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    src.write_text("smiles\nC1CC(\nnot_a_molecule\n")
    result = runner.invoke(app, ["chem", "profile", str(src), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code == 2
    assert "no valid molecule" in result.stderr and "o.invalid.csv" in result.stderr


def test_bad_input_messages(tmp_path: Path) -> None:
    wrong = runner.invoke(
        app,
        [
            "chem",
            "profile",
            str(CHEM / "drugs.csv"),
            "-o",
            str(tmp_path / "o.csv"),
            "--smiles-column",
            "SMILES",
        ],
    )
    assert wrong.exit_code == 2
    assert "column 'SMILES' not found in drugs.csv" in wrong.stderr and "'canonical_smiles'" in wrong.stderr
    empty = tmp_path / "empty.smi"
    empty.write_text("")
    res = runner.invoke(app, ["chem", "profile", str(empty), "-o", str(tmp_path / "o.csv")])
    assert res.exit_code == 2 and "empty file" in res.stderr
    cat = runner.invoke(
        app,
        ["chem", "profile", str(CHEM / "drugs.csv"), "-o", str(tmp_path / "o.csv"), "--alerts", "PAINS_Z"],
    )
    assert cat.exit_code == 2 and "unknown alert catalogue 'PAINS_Z'" in cat.stderr
    garbage = tmp_path / "garbage.sdf"
    garbage.write_bytes(b"\x00\x01\x02PNG" * 100)
    res = runner.invoke(app, ["chem", "profile", str(garbage), "-o", str(tmp_path / "o.csv")])
    assert res.exit_code == 2 and "not a molecule file" in res.stderr


def test_depict(tmp_path: Path) -> None:
    out = tmp_path / "aspirin.svg"
    ok = runner.invoke(app, ["chem", "depict", "CC(=O)Oc1ccccc1C(=O)O", "-o", str(out)])
    assert ok.exit_code == 0, ok.output
    assert out.read_text().startswith("<svg") and "</svg>" in out.read_text()
    bad = runner.invoke(app, ["chem", "depict", "C1CC(", "-o", str(tmp_path / "x.svg")])
    assert bad.exit_code == 2 and "malformed SMILES" in bad.stderr
    assert not (tmp_path / "x.svg").exists()


def test_bbbp_every_parseable_row_profiled(shared_data: Path, tmp_path: Path) -> None:
    """The 'Done when' run: every row RDKit can parse is profiled, every other row is in the side file."""
    src = shared_data / "discovery" / "moleculenet" / "bbbp.csv"
    with open(src, newline="") as fh, rdBase.BlockLogs():
        smiles = [row["smiles"] for row in csv.DictReader(fh)]
        parseable = {i + 1 for i, s in enumerate(smiles) if Chem.MolFromSmiles(s) is not None}
    out = tmp_path / "bbbp_profile.csv"
    result = runner.invoke(
        app, ["chem", "profile", str(src), "-o", str(out), "--no-standardize", "--alerts", "PAINS_A"]
    )
    assert result.exit_code == 0, result.output
    prof = pd.read_csv(out, keep_default_na=False)
    side = pd.read_csv(tmp_path / "bbbp_profile.invalid.csv", keep_default_na=False)
    assert set(prof["row"]) == parseable
    assert set(side["row"]) == set(range(1, len(smiles) + 1)) - parseable
    assert len(prof) + len(side) == len(smiles) == 2039
    assert prof["inchikey"].str.len().eq(27).all()
    assert f"rows: {len(smiles)}  valid: {len(parseable)}" in result.stdout


def test_profile_puts_rdkit_warnings_in_the_rows_not_the_console(tmp_path: Path, capfd) -> None:
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["chem", "profile", str(CHEM / "z_coords_tagged_2d.sdf"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, keep_default_na=False)
    assert table["warnings"].tolist() == [
        "Warning: molecule is tagged as 2D, but at least one Z coordinate is not zero. Marking the mol as 3D.", ""]
    assert "Warning" not in capfd.readouterr().err and "Warning" not in result.output
