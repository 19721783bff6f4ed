"""Property tests of the molecule reader (issue 18 part 9): any SMILES text, any CSV bytes, any .smi
file gives a result or the project's InputError, never another exception."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from theralab.chem.io import parse_smiles, read_molecules, read_table
from theralab.errors import InputError

BOUNDED = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SMILES_ALPHABET = "CNOSPFIBrcnos()[]=#@+-123456789%/\\.Hl*: "
smiles = st.text(alphabet=SMILES_ALPHABET, max_size=60) | st.text(max_size=40)


@BOUNDED
@given(smiles)
def test_any_smiles_parses_or_says_why(text):
    mol, reason = parse_smiles(text)
    assert (mol is None) != (reason is None)
    if reason is not None:
        assert isinstance(reason, str) and reason


def _file(suffix: str, data: bytes) -> Path:
    handle = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)  # noqa: SIM115 - closed at once
    handle.write(data)
    handle.close()
    return Path(handle.name)


csv_text = st.lists(st.lists(st.text(alphabet=SMILES_ALPHABET + ',"\n\r\t;ab', max_size=12), min_size=1,
                             max_size=4), max_size=6).map(lambda rows: "\n".join(",".join(r) for r in rows))
csv_bytes = csv_text.map(lambda t: ("smiles,id\n" + t).encode()) | csv_text.map(str.encode) | st.binary(max_size=80)


@BOUNDED
@given(csv_bytes)
def test_any_csv_reads_as_a_table_or_input_error(data):
    path = _file(".csv", data)
    try:
        table = read_table(path)
        assert hasattr(table, "columns")
    except InputError as exc:
        assert exc.message
    finally:
        path.unlink()


@BOUNDED
@given(csv_bytes)
def test_any_csv_gives_a_record_per_row_or_input_error(data):
    path = _file(".csv", data)
    try:
        for rec in read_molecules(path):
            assert (rec.mol is None) != (rec.error is None)
    except InputError as exc:
        assert exc.message
    finally:
        path.unlink()


@BOUNDED
@given(st.lists(smiles.filter(lambda s: "\n" not in s and "\r" not in s), max_size=8) | st.binary(max_size=60))
def test_any_smi_file_gives_records_or_input_error(lines):
    data = lines if isinstance(lines, bytes) else "\n".join(lines).encode()
    path = _file(".smi", data)
    try:
        rows = list(read_molecules(path))
        assert all((r.mol is None) != (r.error is None) for r in rows)
    except InputError as exc:
        assert exc.message
    finally:
        path.unlink()
