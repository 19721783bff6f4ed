"""The profiling pipeline: one row per valid molecule, bad rows in the side file, whole-file errors."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rdkit import Chem
from rdkit.Chem import QED, Descriptors

from theralab.chem.profile import (
    ERROR_COLUMNS,
    invalid_path_for,
    profile_columns,
    profile_file,
    profile_smiles,
)
from theralab.errors import InputError

CHEM = Path(__file__).resolve().parents[1] / "data" / "chem"


def test_profile_smiles_rows_and_errors() -> None:
    df, err = profile_smiles(["CC(=O)Oc1ccccc1C(=O)O", "C1CC(", "CC(=O)[O-].[Na+]", ""], ids=["asp", "x", "ac", "e"])
    assert list(df.columns) == profile_columns()
    assert df["id"].tolist() == ["asp", "ac"] and df["row"].tolist() == [1, 3]
    assert df.loc[0, "inchikey"] == "BSYNRYMUTXBXSQ-UHFFFAOYSA-N"  # aspirin
    assert df.loc[0, "mw"] == Descriptors.MolWt(Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O"))
    assert df.loc[0, "alerts"] == "BRENK:phenol_ester" and df.loc[0, "n_alerts"] == 1
    assert bool(df.loc[0, "lipinski_pass"])
    # the salt is standardised to acetic acid before describing
    assert df.loc[1, "smiles"] == "CC(=O)O"
    assert df.loc[1, "changes"] == "removed fragment [Na+]; neutralised (net charge -1 -> +0)"
    assert df.loc[1, "qed"] == QED.qed(Chem.MolFromSmiles("CC(=O)O"))
    assert list(err.columns) == ERROR_COLUMNS
    assert err["row"].tolist() == [2, 4] and err["reason"].tolist()[1] == "empty SMILES"


def test_no_standardize_keeps_the_salt() -> None:
    df, _ = profile_smiles(["CC(=O)[O-].[Na+]"], standardize=False)
    assert df.loc[0, "smiles"] == Chem.CanonSmiles("CC(=O)[O-].[Na+]")
    assert df.loc[0, "formal_charge"] == 0 and df.loc[0, "changes"] == ""
    assert df.loc[0, "mw"] == pytest.approx(82.034, abs=1e-3)  # sodium acetate


def test_profile_file_csv_with_side_file(tmp_path: Path) -> None:
    out = tmp_path / "drugs.profile.csv"
    seen = []
    summary = profile_file(CHEM / "drugs.csv", out, progress=seen.append, chunk_size=3)
    assert (summary.rows, summary.valid, summary.invalid) == (7, 4, 3)
    assert [p.rows for p in seen] == [3, 6, 7] and seen[-1].fraction == 1.0
    prof = pd.read_csv(out, keep_default_na=False)
    assert prof["id"].tolist() == ["aspirin", "caffeine", "ibuprofen_sodium", "paracetamol"]
    assert prof["row"].tolist() == [1, 2, 4, 7]
    side = Path(summary.invalid_output)
    assert side == tmp_path / "drugs.profile.invalid.csv" == invalid_path_for(out)
    bad = pd.read_csv(side, keep_default_na=False)
    assert list(bad.columns) == ["row", "id", "input", "reason"]
    assert bad["row"].tolist() == [3, 5, 6]
    assert bad["id"].tolist() == ["bad_syntax", "pentavalent_carbon", "empty"]
    assert "valence" in bad.loc[1, "reason"].lower()


def test_profile_file_parquet_equals_csv(tmp_path: Path) -> None:
    a = profile_file(CHEM / "drugs.sdf", tmp_path / "a.parquet", chunk_size=2)
    b = profile_file(CHEM / "drugs.sdf", tmp_path / "b.csv")
    assert (a.valid, a.invalid) == (b.valid, b.invalid) == (3, 1)
    pa_df = pd.read_parquet(tmp_path / "a.parquet")
    csv_df = pd.read_csv(tmp_path / "b.csv", keep_default_na=False)
    assert pa_df["inchikey"].tolist() == csv_df["inchikey"].tolist()
    # CSV keeps full float precision (round-trip exact)
    assert pa_df["clogp"].tolist() == csv_df["clogp"].tolist()
    assert str(pa_df["lipinski_pass"].dtype) == "bool"


def test_parquet_input_large_chunks_stream(tmp_path: Path) -> None:
    src = tmp_path / "lib.parquet"
    smiles = ["C" * (i % 12 + 1) + "O" for i in range(120)] + ["bad("]
    pq.write_table(pa.table({"smiles": smiles}), src, row_group_size=50)
    out = tmp_path / "lib_out.parquet"
    summary = profile_file(src, out, chunk_size=40, standardize=False)
    assert (summary.rows, summary.valid, summary.invalid) == (121, 120, 1)
    assert pq.ParquetFile(out).metadata.num_rows == 120


def test_all_invalid_still_writes_files(tmp_path: Path) -> None:
    src = tmp_path / "bad.smi"
    src.write_text("C1CC( a\nxyz b\n")
    summary = profile_file(src, tmp_path / "bad_out.csv")
    assert (summary.valid, summary.invalid) == (0, 2)
    assert pd.read_csv(tmp_path / "bad_out.csv").empty
    assert len(pd.read_csv(summary.invalid_output)) == 2


def test_non_utf8_row_goes_to_side_file(tmp_path: Path) -> None:
    src = tmp_path / "mixed.csv"
    src.write_bytes(b"name,smiles\nethanol,CCO\nlatin,C\xe9C\n")
    summary = profile_file(src, tmp_path / "mixed_out.csv")
    assert (summary.valid, summary.invalid) == (1, 1)
    bad = pd.read_csv(summary.invalid_output)
    assert bad.loc[0, "reason"] == "not valid UTF-8 text" and bad.loc[0, "row"] == 2


def test_whole_file_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty file"):
        profile_file(empty, tmp_path / "o.csv")
    header_only = tmp_path / "header.csv"
    header_only.write_text("smiles,id\n")
    with pytest.raises(InputError, match="no molecule rows"):
        profile_file(header_only, tmp_path / "o.csv")
    with pytest.raises(InputError, match="'structure' not found in drugs.csv"):
        profile_file(CHEM / "drugs.csv", tmp_path / "o.csv", smiles_column="structure")
    with pytest.raises(InputError, match="unknown output format"):
        profile_file(CHEM / "drugs.csv", tmp_path / "o.xlsx")
    assert not (tmp_path / "o.csv").exists()


def test_truncated_input_keeps_rows_already_written(tmp_path: Path) -> None:
    src = tmp_path / "cut.smi.gz"
    data = gzip.compress(b"".join(b"CCO m%d\n" % i for i in range(4000)))
    src.write_bytes(data[: len(data) // 2])
    out = tmp_path / "cut.parquet"
    with pytest.raises(InputError, match="truncated or corrupt") as exc:
        profile_file(src, out, chunk_size=500, standardize=False, catalogs=("PAINS_A",))
    assert "cut.smi.gz" in exc.value.where
    written = pq.ParquetFile(out).metadata.num_rows  # still a complete, readable file
    assert written > 0 and written % 500 == 0


def test_rdkit_warnings_go_to_the_rows_warnings_column(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    df, err = profile_smiles(["CC[NH3+].[H+]", "CCO"], ids=["proton", "ethanol"])
    assert err.empty and list(df.columns) == profile_columns()
    assert df.set_index("id")["warnings"].to_dict() == {
        "proton": "WARNING: not removing hydrogen atom without neighbors", "ethanol": ""}
    out = tmp_path / "sd.csv"
    profile_file(CHEM / "z_coords_tagged_2d.sdf", out)
    table = pd.read_csv(out, keep_default_na=False).set_index("id")
    assert table.loc["ethanol_3d_coords_2d_tag", "warnings"].startswith("Warning: molecule is tagged as 2D")
    assert table.loc["phenol_2d", "warnings"] == ""
    assert capfd.readouterr().err == ""
