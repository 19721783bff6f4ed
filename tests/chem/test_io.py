"""Reading molecule files: formats, streaming chunks, bad rows kept aside, whole-file errors."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rdkit import Chem

from theralab.chem.io import MoleculeReader, TableWriter, parse_smiles, read_molecules, write_sdf
from theralab.errors import InputError

CHEM = Path(__file__).resolve().parents[1] / "data" / "chem"


def test_parse_smiles_reasons() -> None:
    mol, err = parse_smiles("CCO")
    assert err is None and mol.GetNumAtoms() == 3
    assert parse_smiles("")[1] == "empty SMILES"
    assert parse_smiles("C1CC(")[1].startswith("malformed SMILES (syntax error)")
    assert "valence" in parse_smiles("CC(C)(C)(C)C")[1].lower()
    assert "kekulize" in parse_smiles("c1cccc1")[1].lower()


def test_csv_autodetects_columns_and_keeps_bad_rows() -> None:
    recs = list(read_molecules(CHEM / "drugs.csv"))
    assert [r.row for r in recs] == [1, 2, 3, 4, 5, 6, 7]
    assert recs[0].id == "aspirin" and recs[0].ok
    bad = {r.id: r.error for r in recs if not r.ok}
    assert set(bad) == {"bad_syntax", "pentavalent_carbon", "empty"}
    assert bad["empty"] == "empty SMILES"
    assert Chem.MolToSmiles(recs[3].mol) == Chem.CanonSmiles("CC(C)Cc1ccc(cc1)C(C)C(=O)[O-].[Na+]")


def test_wrong_column_lists_the_columns() -> None:
    with pytest.raises(InputError) as exc:
        MoleculeReader(CHEM / "drugs.csv", smiles_column="structure").chunks().__next__()
    msg = str(exc.value)
    assert "'structure' not found" in msg and "'canonical_smiles'" in msg and "drugs.csv" in msg


def test_no_smiles_column(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="no SMILES column found in x.csv; its columns are: 'a', 'b'"):
        list(read_molecules(f))


def test_smiles_file_with_header_and_blank_line() -> None:
    recs = list(read_molecules(CHEM / "drugs.smi"))
    assert [(r.row, r.id, r.ok) for r in recs] == [
        (1, "aspirin", True),
        (2, "caffeine", True),
        (4, "garbage", False),
        (5, "paracetamol", True),
    ]


def test_tsv() -> None:
    recs = list(read_molecules(CHEM / "small.tsv"))
    assert [(r.id, r.ok) for r in recs] == [("ethanol", True), ("benzene", True), ("broken", False)]


def test_sdf_records_ids_and_reasons() -> None:
    recs = list(read_molecules(CHEM / "drugs.sdf"))
    assert [r.id for r in recs] == ["aspirin", "five_bonds_carbon", "caffeine", "paracetamol"]
    assert not recs[1].ok and "valence" in recs[1].error.lower()
    assert recs[0].smiles == Chem.CanonSmiles("CC(=O)Oc1ccccc1C(=O)O")
    ids = [r.id for r in read_molecules(CHEM / "drugs.sdf", id_column="CHEMBL_ID") if r.ok]
    assert ids == ["CHEMBL1", "CHEMBL2", "CHEMBL3"]


def test_gzip_and_chunking(tmp_path: Path) -> None:
    f = tmp_path / "many.smi.gz"
    with gzip.open(f, "wt") as fh:
        for i in range(25):
            fh.write(f"{'C' * (i + 1)} m{i}\n")
    reader = MoleculeReader(f, chunk_size=10)
    sizes = [len(c) for c in reader.chunks()]
    assert sizes == [10, 10, 5]
    assert reader.fraction == 1.0
    recs = list(read_molecules(f))
    assert recs[24].id == "m24" and recs[24].mol.GetNumAtoms() == 25


def test_parquet_by_batches(tmp_path: Path) -> None:
    f = tmp_path / "lib.parquet"
    table = pa.table({"name": [f"m{i}" for i in range(7)], "smiles": ["CCO", "bad(", None, "c1ccccc1", "N", "O", "CC"]})
    pq.write_table(table, f, row_group_size=3)
    reader = MoleculeReader(f, chunk_size=3)
    chunks = list(reader.chunks())
    assert [len(c) for c in chunks] == [3, 3, 1]
    recs = [r for c in chunks for r in c]
    assert [r.ok for r in recs] == [True, False, False, True, True, True, True]
    assert recs[2].error == "empty SMILES" and recs[0].id == "m0"


def test_parquet_numeric_smiles_column_is_an_error(tmp_path: Path) -> None:
    f = tmp_path / "num.parquet"
    pq.write_table(pa.table({"smiles": [1, 2]}), f)
    with pytest.raises(InputError, match="not SMILES text"):
        list(read_molecules(f))


def test_non_utf8_row_is_kept_aside(tmp_path: Path) -> None:
    f = tmp_path / "latin1.csv"
    f.write_bytes(b"id,smiles\nok,CCO\nbad,CC\xe9O\nok2,CCN\n")
    recs = list(read_molecules(f))
    assert [r.ok for r in recs] == [True, False, True]
    assert recs[1].error == "not valid UTF-8 text" and recs[1].row == 2


@pytest.mark.parametrize("content", [b"", b"smiles\n", b"   \n\n"])
def test_empty_files(tmp_path: Path, content: bytes) -> None:
    f = tmp_path / "empty.csv"
    f.write_bytes(content)
    with pytest.raises(InputError, match="empty file") as exc:
        list(read_molecules(f))
    assert exc.value.where == str(f)


def test_binary_garbage_and_wrong_format(tmp_path: Path) -> None:
    f = tmp_path / "garbage.csv"
    f.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(InputError, match="garbage.csv is not a molecule file"):
        MoleculeReader(f)
    no_nul = tmp_path / "noise.smi"
    no_nul.write_bytes(bytes(range(1, 256)) * 20)  # binary without NUL bytes: control characters give it away
    with pytest.raises(InputError, match="noise.smi is not a molecule file"):
        MoleculeReader(no_nul)
    p = tmp_path / "fake.parquet"
    p.write_text("smiles\nCCO\n")
    with pytest.raises(InputError, match="not a readable Parquet file"):
        list(read_molecules(p))
    s = tmp_path / "fake.sdf"
    s.write_text("hello\nworld\n")
    with pytest.raises(InputError, match="not an SD file"):
        MoleculeReader(s)
    x = tmp_path / "x.xyz"
    x.write_text("C")
    with pytest.raises(InputError, match="cannot tell the molecule file format"):
        MoleculeReader(x)


def test_truncated_gzip_names_the_row(tmp_path: Path) -> None:
    f = tmp_path / "cut.smi.gz"
    data = gzip.compress(b"".join(b"CCO m%d\n" % i for i in range(20000)))
    f.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated or corrupt"):
        list(read_molecules(f))


def test_missing_file() -> None:
    with pytest.raises(InputError, match="not found"):
        MoleculeReader("/nonexistent/x.csv")


def test_writers_round_trip(tmp_path: Path) -> None:
    df = pd.DataFrame({"id": ["a", "b"], "smiles": ["CCO", "c1ccccc1"], "x": [1.5, 2.25]})
    for suffix in (".csv", ".parquet", ".sdf"):
        out = tmp_path / f"t{suffix}"
        with TableWriter(out) as w:
            w.write(df.iloc[:1])
            w.write(df.iloc[1:])
        if suffix == ".csv":
            assert pd.read_csv(out).equals(df)
        elif suffix == ".parquet":
            assert pd.read_parquet(out).equals(df)
        else:
            mols = list(Chem.SDMolSupplier(str(out)))
            assert [m.GetProp("_Name") for m in mols] == ["a", "b"] and mols[1].GetProp("x") == "2.25"
    sdf = write_sdf([Chem.MolFromSmiles("CCO")], tmp_path / "w.sdf", ids=["e"])
    assert next(iter(Chem.SDMolSupplier(str(sdf)))).GetProp("_Name") == "e"
    with pytest.raises(InputError, match="unknown output format"):
        TableWriter(tmp_path / "out.xlsx")


def test_sdf_no_structure_record_and_gzip(tmp_path: Path) -> None:
    empty_block = "nostruct\n     RDKit          2D\n\n  0  0  0  0  0  0  0  0  0  0999 V2000\nM  END\n$$$$\n"
    f = tmp_path / "mixed.sdf.gz"
    with gzip.open(f, "wt") as fh:
        fh.write(empty_block + (CHEM / "drugs.sdf").read_text())
    recs = list(read_molecules(f))
    assert recs[0].id == "nostruct" and recs[0].error == "record has no atoms (no structure)"
    assert [r.id for r in recs[1:]] == ["aspirin", "five_bonds_carbon", "caffeine", "paracetamol"]
    assert [r.row for r in recs] == [1, 2, 3, 4, 5]


def test_unparsed_reading_passes_text_through_and_still_flags_unreadable_bytes(tmp_path: Path) -> None:
    """``parse=False`` (the job planners' mode) hands SMILES on as text; only bytes that are not
    text are flagged, and parsing the passed text gives what the parsing reader gives."""
    path = tmp_path / "lib.smi"
    path.write_bytes(b"CCO ethanol\nC1CC bad_ring\nc1ccccc1 benzene\n\xff\xfe broken\n")
    raw = [r for chunk in MoleculeReader(path, parse=False).chunks() for r in chunk]
    parsed = [r for chunk in MoleculeReader(path).chunks() for r in chunk]
    assert [r.id for r in raw] == [r.id for r in parsed] == ["ethanol", "bad_ring", "benzene", "broken"]
    assert all(r.mol is None for r in raw)
    assert [r.error for r in raw[:3]] == [None, None, None] and raw[3].error == parsed[3].error
    for r, p in zip(raw[:3], parsed[:3], strict=True):
        mol, err = parse_smiles(r.smiles)
        assert err == p.error and (mol is None) == (p.mol is None)


def test_rdkit_warnings_on_valid_rows_stay_with_the_row(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """An SD record with 3D coordinates but a "2D" header, and a salt written with a bare proton:
    RDKit reads both and warns; the warning is in the record, not on the console."""
    sd = list(read_molecules(CHEM / "z_coords_tagged_2d.sdf"))
    assert [r.id for r in sd] == ["ethanol_3d_coords_2d_tag", "phenol_2d"] and all(r.ok for r in sd)
    assert sd[0].warnings == ("Warning: molecule is tagged as 2D, but at least one Z coordinate is not zero. "
                              "Marking the mol as 3D.")
    assert sd[1].warnings == ""
    src = tmp_path / "in.csv"
    src.write_text("id,smiles\nproton,CC[NH3+].[H+]\nethanol,CCO\n")
    rows = list(read_molecules(src))
    assert [r.warnings for r in rows] == ["WARNING: not removing hydrogen atom without neighbors", ""]
    assert capfd.readouterr().err == ""
