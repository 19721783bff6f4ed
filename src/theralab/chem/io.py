"""Read and write molecule files, streaming, with bad rows kept aside instead of crashing the run.

Formats are chosen from the file name (a trailing ``.gz`` is allowed for the text formats, and
gzip is also recognised by its magic bytes):

========================  =====================================================================
``.smi .smiles .ism .txt``  one molecule per line: ``SMILES [whitespace id]``; an optional header
                            line whose first token is ``smiles`` is skipped
``.csv`` / ``.tsv``         delimited text with a header; the SMILES column is ``smiles_column`` or
                            auto-detected (``smiles``, ``SMILES``, ``canonical_smiles``, ...)
``.sdf .sd``                MDL SD file; ``id`` is the title line or the ``id_column`` data field
``.parquet .pq``            Apache Parquet, read batch by batch with pyarrow
========================  =====================================================================

Every reader yields :class:`MolRecord` objects in chunks of ``chunk_size`` so a file of ten
million rows never sits in memory. ``row`` is the 1-based data row as the user counts it (the
header line is not a row; blank lines are counted but skipped, so in a SMILES file ``row`` is the
line number). A row that cannot become a molecule (malformed SMILES, empty cell, text that is not
UTF-8, an SD record that fails sanitisation) is still yielded, with ``mol=None`` and ``error``
saying why, so the caller can write it to a side file. Problems with the whole file (missing,
empty, binary, wrong column, not a Parquet file) raise :class:`~theralab.errors.InputError`
naming the file.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from rdkit import Chem

from theralab.chem.rdkit_log import rdkit_messages
from theralab.chem.records import (
    MolRecord,
    make_record,
    parse_smiles,
    records_from_chunk,
    records_from_smiles,
    safe_text,
    valid_utf8,
)
from theralab.errors import InputError

SMILES_COLUMNS = tuple(
    "smiles canonical_smiles isomeric_smiles smiles_string canonicalsmiles isomericsmiles "
    "molecule_smiles drug_smiles smi".split()
)
ID_COLUMNS = ("id", "compound_id", "mol_id", "molecule_id", "chembl_id", "name", "compound", "cid", "title")
TEXT_FORMATS = {"smiles", "csv", "tsv", "sdf"}
_FORMAT_SUFFIXES = {
    "smiles": (".smi", ".smiles", ".ism", ".can", ".txt"),
    "csv": (".csv",),
    "tsv": (".tsv", ".tab"),
    "sdf": (".sdf", ".sd", ".mol"),
    "parquet": (".parquet", ".pq"),
}
_SUFFIX_FORMAT = {suffix: fmt for fmt, suffixes in _FORMAT_SUFFIXES.items() for suffix in suffixes}
_SNIFF_BYTES = 65536
csv.field_size_limit(1 << 24)


def detect_format(path: Path) -> str:
    """Return ``smiles``, ``csv``, ``tsv``, ``sdf`` or ``parquet`` from the file name."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in _SUFFIX_FORMAT:
        return _SUFFIX_FORMAT[suffixes[-1]]
    raise InputError(
        f"cannot tell the molecule file format from the name '{path.name}'",
        where=str(path),
        hint="use one of .smi, .txt, .csv, .tsv, .sdf, .parquet (text formats may end in .gz)",
    )


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


class MoleculeReader:
    """Stream molecules from a file in chunks, with progress as a fraction of the file read.

    Args:
        path: the input file.
        smiles_column: column holding SMILES (CSV/TSV/Parquet); auto-detected when ``None``.
        id_column: column (or SD data field) holding the identifier; auto-detected when ``None``.
        chunk_size: records per chunk.
        fmt: force a format instead of guessing from the file name.
        parse: parse each SMILES into ``MolRecord.mol`` (and its ``error``). ``False`` passes the
            text through unparsed (only unreadable text is flagged): for a planner that hands
            rows to workers which parse them anyway, so the serial reading step costs no RDKit.

    Raises:
        InputError: the file is missing, empty, binary, or has no SMILES column.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        smiles_column: str | None = None,
        id_column: str | None = None,
        chunk_size: int = 10_000,
        fmt: str | None = None,
        parse: bool = True,
    ) -> None:
        self.path = Path(path)
        self.parse = parse
        if not self.path.is_file():
            raise InputError(f"input file not found: {self.path}", where=str(self.path))
        if chunk_size < 1:
            raise InputError("chunk_size must be at least 1", where="chunk_size")
        self.format = fmt or detect_format(self.path)
        self.smiles_column = smiles_column
        self.id_column = id_column
        self.chunk_size = chunk_size
        self.total_bytes = self.path.stat().st_size
        self.rows_read = 0
        self._raw: IO[bytes] | None = None
        self._parquet_rows = 0
        self._done = False
        if self.total_bytes == 0:
            raise InputError(f"empty file: {self.path.name} has no molecules", where=str(self.path))
        if self.format in TEXT_FORMATS:
            self._check_text()

    # -- progress -------------------------------------------------------------------------------
    @property
    def fraction(self) -> float | None:
        """Fraction of the input consumed so far (bytes for text, rows for Parquet)."""
        if self._done:
            return 1.0
        if self.format == "parquet":
            return self.rows_read / self._parquet_rows if self._parquet_rows else None
        if self._raw is None or self._raw.closed:
            return None
        try:
            return min(1.0, self._raw.tell() / self.total_bytes)
        except (OSError, ValueError):
            return None

    # -- opening --------------------------------------------------------------------------------
    def _open_binary(self) -> IO[bytes]:
        self._raw = open(self.path, "rb")  # noqa: SIM115 - closed by the caller's context
        if _is_gzip(self.path):
            return gzip.GzipFile(fileobj=self._raw, mode="rb")
        return self._raw

    def _open_text(self) -> IO[str]:
        # surrogateescape keeps undecodable bytes so the *row* can be reported, not the whole file.
        return io.TextIOWrapper(self._open_binary(), encoding="utf-8-sig", errors="surrogateescape", newline="")

    def _check_text(self) -> None:
        pieces: list[bytes] = []
        try:
            with self._open_binary() as fh:
                # read in small pieces: a truncated gzip then still yields its first rows, and the
                # truncation is reported later with the row where it happens.
                while sum(map(len, pieces)) < _SNIFF_BYTES and (piece := fh.read(4096)):
                    pieces.append(piece)
        except EOFError:
            pass
        except OSError as exc:
            raise InputError(
                f"cannot read {self.path.name}: {exc}", where=str(self.path), hint="is the gzip file intact?"
            ) from exc
        finally:
            if self._raw is not None:
                self._raw.close()
        head = b"".join(pieces)
        controls = sum(head.count(bytes([c])) for c in (*range(0, 9), *range(14, 32)))
        if b"\x00" in head or controls > max(8, len(head) // 100):
            raise InputError(
                f"{self.path.name} is not a molecule file: it contains binary data",
                where=str(self.path),
                hint=f"expected {self.format.upper()} text; Parquet files must end in .parquet",
            )
        if not head.strip():
            raise InputError(f"empty file: {self.path.name} has no molecules", where=str(self.path))
        if self.format == "sdf" and not any(tag in head for tag in (b"M  END", b"V2000", b"V3000")):
            raise InputError(
                f"{self.path.name} is not an SD file: no mol block (V2000/V3000, 'M  END') found",
                where=str(self.path),
                hint="SD records end with 'M  END' and '$$$$'",
            )

    # -- iteration ------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[MolRecord]:
        for chunk in self.chunks():
            yield from chunk

    def chunks(self) -> Iterator[list[MolRecord]]:
        """Yield lists of at most ``chunk_size`` records, in file order."""
        source = {
            "smiles": self._smiles_rows,
            "csv": self._delimited_rows,
            "tsv": self._delimited_rows,
            "parquet": self._parquet_rows_iter,
            "sdf": self._sdf_records,
        }[self.format]
        chunk: list[MolRecord] = []
        seen = 0
        try:
            for rec in source():
                seen += 1
                chunk.append(rec)
                if len(chunk) >= self.chunk_size:
                    self.rows_read = seen
                    yield chunk
                    chunk = []
        except Exception as exc:
            if not isinstance(exc, EOFError | OSError | csv.Error) and not type(exc).__module__.startswith("pyarrow"):
                raise
            raise InputError(
                f"{self.path.name} is truncated or corrupt after row {seen}: {exc}",
                where=f"{self.path}:{seen + 1}",
                hint="rows before this one were read",
            ) from exc
        finally:
            if self._raw is not None:
                self._raw.close()
        self.rows_read = seen
        self._done = True
        if chunk:
            yield chunk
        if seen == 0:
            raise InputError(f"empty file: {self.path.name} has no molecule rows", where=str(self.path))

    def _smiles_rows(self) -> Iterator[MolRecord]:
        with self._open_text() as fh:
            row = 0
            for line in fh:
                text = line.strip()
                if row == 0 and text and text.split(None, 1)[0].lower() in SMILES_COLUMNS:
                    continue  # header line: not a data row
                row += 1
                if not text or text.startswith("#"):
                    continue
                parts = text.split(None, 1)
                yield make_record(row, parts[0], parts[1].strip() if len(parts) > 1 else "", self.parse)

    def _delimited_rows(self) -> Iterator[MolRecord]:
        delimiter = "\t" if self.format == "tsv" else ","
        with self._open_text() as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            header = next(reader, None)
            if not header or not any(h.strip() for h in header):
                raise InputError(f"empty file: {self.path.name} has no header line", where=str(self.path))
            header = [safe_text(h).strip() for h in header]
            s_idx = header.index(find_smiles_column(header, self.smiles_column, self.path))
            id_name = find_id_column(header, self.id_column, self.path)
            i_idx = header.index(id_name) if id_name is not None else None
            for row, fields in enumerate(reader, start=1):
                if not fields:
                    continue
                smiles = fields[s_idx] if s_idx < len(fields) else ""
                ident = fields[i_idx] if i_idx is not None and i_idx < len(fields) else ""
                yield make_record(row, smiles, ident, self.parse)

    def _parquet_rows_iter(self) -> Iterator[MolRecord]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(self.path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"{self.path.name} is not a readable Parquet file: {exc}", where=str(self.path)) from exc
        names = pf.schema_arrow.names
        s_col = find_smiles_column(names, self.smiles_column, self.path)
        i_col = find_id_column(names, self.id_column, self.path)
        s_type = pf.schema_arrow.field(s_col).type
        if pa.types.is_dictionary(s_type):
            s_type = s_type.value_type
        if not (pa.types.is_string(s_type) or pa.types.is_large_string(s_type)):
            raise InputError(
                f"column '{s_col}' in {self.path.name} holds {s_type}, not SMILES text",
                where=f"{self.path}:{s_col}",
                hint="pass --smiles-column with the SMILES column",
            )
        self._parquet_rows = pf.metadata.num_rows
        columns = [s_col] + ([i_col] if i_col and i_col != s_col else [])
        row = 0
        for batch in pf.iter_batches(batch_size=self.chunk_size, columns=columns):
            smiles = batch.column(0).to_pylist()
            ids = batch.column(1).to_pylist() if len(columns) > 1 else [None] * len(smiles)
            for smi, ident in zip(smiles, ids, strict=True):
                row += 1
                yield make_record(row, smi or "", "" if ident is None else str(ident), self.parse)

    def _sd_split(self) -> Iterator[tuple[int, list[str], str | None]]:
        """Each SD record as ``(row, its lines, its '$$$$' line)``; the last may lack one (None)."""
        with self._open_text() as fh:
            row = 0
            block: list[str] = []
            for line in fh:
                if line.startswith("$$$$"):
                    row += 1
                    yield row, block, line
                    block = []
                else:
                    block.append(line)
            if "".join(block).strip():
                yield row + 1, block, None

    def _sdf_records(self) -> Iterator[MolRecord]:
        supplier = Chem.SDMolSupplier()
        for row, lines, end in self._sd_split():
            yield self._sdf_record(supplier, row, "".join(lines) + (end or "\n$$$$\n"))

    def _sdf_record(self, supplier: Chem.SDMolSupplier, row: int, block: str) -> MolRecord:
        """Parse one SD record with RDKit's SD parser (data fields included).

        Records are split here rather than by ``ForwardSDMolSupplier`` so that a record RDKit
        rejects can be re-parsed without sanitisation to report *why* (valence, aromaticity...).
        """
        title = safe_text(block.split("\n", 1)[0].strip())
        if not valid_utf8(block):
            return MolRecord(row, title or str(row), "", None, "record is not valid UTF-8 text")
        with rdkit_messages() as rdkit:
            supplier.SetData(block)
            try:
                mol = next(supplier)
            except StopIteration:
                mol = None
            if mol is None:
                return MolRecord(row, title or str(row), "", None, _sdf_reason(block))
            if mol.GetNumAtoms() == 0:
                return MolRecord(row, title or str(row), "", None, "record has no atoms (no structure)")
            ident = title
            if self.id_column and mol.HasProp(self.id_column):
                ident = mol.GetProp(self.id_column)
            smiles = Chem.MolToSmiles(mol)
        return MolRecord(row, ident or str(row), smiles, mol, None, "; ".join(rdkit.warnings))

    def sd_blocks(self) -> Iterator[tuple[int, str, str]]:
        """Raw SD records as ``(row, id, mol block)``, unparsed, with the same id rule as :meth:`chunks`.

        For planners that hand records to worker processes which parse them (an index build): the
        serial reader then costs no RDKit, and ids are the ones every other command reports.
        """
        if self.format != "sdf":
            raise InputError(f"{self.path.name} is not an SD file", where=str(self.path))
        for row, lines, _ in self._sd_split():
            yield row, sd_block_id(lines, self.id_column, row), "".join(lines)
        self._done = True


def sd_block_id(lines: Sequence[str], id_column: str | None, row: int) -> str:
    """The id of one SD record from its lines: the ``id_column`` data field, else the title, else the row."""
    if id_column:
        tag = f"<{id_column}>"
        for i, line in enumerate(lines[:-1]):
            if line.startswith(">") and tag in line:
                return safe_text(lines[i + 1].strip()) or str(row)
    title = safe_text(lines[0].strip()) if lines else ""
    return title or str(row)


def _sdf_reason(block: str) -> str:
    if "M  END" not in block:
        return "not a mol block (no 'M  END' line)"
    raw = Chem.MolFromMolBlock(block, sanitize=False)
    if raw is None:
        return "malformed mol block"
    if raw.GetNumAtoms() == 0:
        return "record has no atoms"
    try:
        Chem.SanitizeMol(raw)
    except Exception as exc:  # RDKit sanitisation errors
        return f"invalid chemistry: {exc}"
    return "could not read record"


def read_table(path: str | os.PathLike[str]) -> Any:
    """A whole CSV/TSV/Parquet table as a pandas DataFrame (for training data with label columns).

    Same formats (:func:`detect_format`, ``.gz`` allowed) and the same encoding rule as
    :class:`MoleculeReader`: UTF-8, with or without a byte-order mark; anything else is refused
    with the row where decoding failed, never silently turned into replacement characters.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist", where=str(path))
    fmt = detect_format(path)
    if fmt not in ("csv", "tsv", "parquet"):
        raise InputError(f"{path.name} is a {fmt.upper()} file; a table with columns is needed here",
                         where=str(path), hint="use .csv, .tsv or .parquet with a SMILES column and label columns")
    try:
        if fmt == "parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, sep="\t" if fmt == "tsv" else ",", encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path.name} is not UTF-8 text ({exc.reason} at byte {exc.start})", where=str(path),
                         hint="save the file as UTF-8 (e.g. from a spreadsheet: 'CSV UTF-8')") from exc
    except Exception as exc:  # noqa: BLE001 - pandas raises many types for malformed files
        raise InputError(f"cannot read {path.name}: {exc}", where=str(path)) from exc


def find_smiles_column(columns: Sequence[str], wanted: str | None, path: Path | str) -> str:
    """Return the SMILES column: ``wanted`` if given, else the first well-known name present.

    Raises:
        InputError: naming the file and listing its columns when no column fits.
    """
    listing = ", ".join(repr(c) for c in columns[:30]) + (" ..." if len(columns) > 30 else "")
    if wanted is not None:
        if wanted in columns:
            return wanted
        raise InputError(
            f"column '{wanted}' not found in {Path(path).name}; its columns are: {listing}",
            where=str(path),
            hint="pass --smiles-column with one of the columns listed",
        )
    lowered = {c.lower().strip(): c for c in columns}
    for name in SMILES_COLUMNS:
        if name in lowered:
            return lowered[name]
    for c in columns:
        if c.lower().endswith("smiles"):
            return c
    raise InputError(
        f"no SMILES column found in {Path(path).name}; its columns are: {listing}",
        where=str(path),
        hint="pass --smiles-column with the column that holds SMILES",
    )


def find_id_column(columns: Sequence[str], wanted: str | None, path: Path | str) -> str | None:
    """Return the identifier column (``wanted`` or a well-known name), or ``None`` to use row numbers."""
    if wanted is not None:
        if wanted in columns:
            return wanted
        raise InputError(
            f"id column '{wanted}' not found in {Path(path).name}; its columns are: "
            + ", ".join(repr(c) for c in columns[:30]),
            where=str(path),
        )
    lowered = {c.lower().strip(): c for c in columns}
    for name in ID_COLUMNS:
        if name in lowered:
            return lowered[name]
    return None


def read_molecules(path: str | os.PathLike[str], **kwargs: object) -> Iterator[MolRecord]:
    """Iterate over every record of a molecule file (see :class:`MoleculeReader` for arguments)."""
    return iter(MoleculeReader(path, **kwargs))  # type: ignore[arg-type]


# Writers live in theralab.chem.writers; re-exported here so callers need one import.
from theralab.chem.writers import OUTPUT_FORMATS, TableWriter, output_format, write_sdf, write_table  # noqa: E402

__all__ = [
    "OUTPUT_FORMATS",
    "MolRecord",
    "MoleculeReader",
    "TableWriter",
    "output_format",
    "parse_smiles",
    "records_from_chunk",
    "records_from_smiles",
    "read_molecules",
    "write_sdf",
    "write_table",
]
