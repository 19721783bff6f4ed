"""Streaming readers for molecule libraries: SMILES files, CSV/TSV, Parquet and SDF.

Why a streaming reader of our own: an index build must read libraries of millions of rows in
bounded memory, hand fixed-size chunks to worker processes, and be able to skip chunks that a
previous (interrupted) build already finished without parsing them again. Parsing molecules is
left to the workers; the reader only splits text, so it is never the bottleneck.

Every record is ``(ordinal, id, text, kind)`` where ``kind`` is ``"smiles"`` or ``"molblock"``.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from pathlib import Path

from theralab.errors import InputError, NotFoundError

Record = tuple[int, str, str]  # (ordinal, id, smiles or mol block)

SMILES_SUFFIXES = (".smi", ".smiles", ".ism", ".can", ".txt")
CSV_SUFFIXES = (".csv", ".tsv")
SMILES_COLUMN_GUESSES = ("smiles", "canonical_smiles", "isomeric_smiles", "smi", "drug", "mol")
ID_COLUMN_GUESSES = ("id", "mol_id", "molecule_id", "compound_id", "name", "chembl_id", "zinc_id", "cid")


def library_format(path: Path) -> str:
    """``smiles``, ``csv``, ``parquet`` or ``sdf`` from the file name (``.gz`` allowed)."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(SMILES_SUFFIXES):
        return "smiles"
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".sdf", ".sd")):
        return "sdf"
    raise InputError(
        f"cannot tell the format of {path.name}",
        where=str(path),
        hint="use .smi/.ism (SMILES [id]), .csv/.tsv, .parquet or .sdf (optionally .gz)",
    )


def _open_text(path: Path) -> io.TextIOBase:
    if path.name.lower().endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return path.open("r", encoding="utf-8", errors="replace")


def _pick(columns: list[str], wanted: str | None, guesses: tuple[str, ...], what: str, path: Path) -> str | None:
    if wanted is not None:
        if wanted not in columns:
            raise InputError(
                f"{what} column {wanted!r} not found",
                where=str(path),
                hint=f"columns are: {', '.join(columns[:20])}",
            )
        return wanted
    lower = {c.lower(): c for c in columns}
    for g in guesses:
        if g in lower:
            return lower[g]
    if what == "SMILES":
        for c in columns:
            if "smiles" in c.lower():
                return c
        raise InputError(
            "no SMILES column found",
            where=str(path),
            hint=f"name it with --smiles-column; columns are: {', '.join(columns[:20])}",
        )
    return None


def iter_records(
    path: Path, smiles_column: str | None = None, id_column: str | None = None
) -> tuple[str, Iterator[Record]]:
    """Open a library and return ``(kind, records)``; ``kind`` is ``smiles`` or ``molblock``.

    Ids: the id column (CSV/Parquet), the last whitespace token after the SMILES (SMILES files,
    as FPSim2 and DUD-E ``.ism`` files do), the title line or ``id_column`` property (SDF), and
    otherwise the 0-based row number.

    Raises:
        NotFoundError: the file does not exist.
        InputError: unknown format or missing column.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"library file {path} does not exist", where=str(path))
    fmt = library_format(path)
    if fmt == "smiles":
        return "smiles", _smiles_records(path)
    if fmt == "csv":
        return "smiles", _csv_records(path, smiles_column, id_column)
    if fmt == "parquet":
        return "smiles", _parquet_records(path, smiles_column, id_column)
    return "molblock", _sdf_records(path, id_column)


def _smiles_records(path: Path) -> Iterator[Record]:
    ordinal = 0
    with _open_text(path) as fh:
        for lineno, line in enumerate(fh):
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            if lineno == 0 and parts[0].lower() in ("smiles", "smi"):
                continue  # header line
            ident = parts[-1] if len(parts) > 1 else str(ordinal)
            yield ordinal, ident, parts[0]
            ordinal += 1


def _csv_records(path: Path, smiles_column: str | None, id_column: str | None) -> Iterator[Record]:
    import pandas as pd

    sep = "\t" if path.name.lower().removesuffix(".gz").endswith(".tsv") else ","
    reader = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, chunksize=50_000)
    ordinal = 0
    scol = icol = None
    for frame in reader:
        if scol is None:
            cols = list(frame.columns)
            scol = _pick(cols, smiles_column, SMILES_COLUMN_GUESSES, "SMILES", path)
            icol = _pick(cols, id_column, ID_COLUMN_GUESSES, "id", path)
        smiles = frame[scol].tolist()
        ids = frame[icol].tolist() if icol else [str(ordinal + i) for i in range(len(smiles))]
        for ident, smi in zip(ids, smiles, strict=True):
            yield ordinal, str(ident), str(smi).strip()
            ordinal += 1


def _parquet_records(path: Path, smiles_column: str | None, id_column: str | None) -> Iterator[Record]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    cols = pf.schema_arrow.names
    scol = _pick(cols, smiles_column, SMILES_COLUMN_GUESSES, "SMILES", path)
    icol = _pick(cols, id_column, ID_COLUMN_GUESSES, "id", path)
    ordinal = 0
    for batch in pf.iter_batches(batch_size=50_000, columns=[c for c in (scol, icol) if c]):
        smiles = batch.column(scol).to_pylist()
        ids = batch.column(icol).to_pylist() if icol else [str(ordinal + i) for i in range(len(smiles))]
        for ident, smi in zip(ids, smiles, strict=True):
            yield ordinal, str(ident), "" if smi is None else str(smi).strip()
            ordinal += 1


def _sdf_records(path: Path, id_column: str | None) -> Iterator[Record]:
    ordinal = 0
    lines: list[str] = []
    with _open_text(path) as fh:
        for line in fh:
            if line.startswith("$$$$"):
                yield ordinal, _sdf_id(lines, id_column, ordinal), "".join(lines)
                ordinal += 1
                lines = []
            else:
                lines.append(line)
    if any(s.strip() for s in lines):
        yield ordinal, _sdf_id(lines, id_column, ordinal), "".join(lines)


def _sdf_id(lines: list[str], id_column: str | None, ordinal: int) -> str:
    if id_column:
        tag = f"<{id_column}>"
        for i, line in enumerate(lines[:-1]):
            if line.startswith(">") and tag in line:
                return lines[i + 1].strip()
    title = lines[0].strip() if lines else ""
    return title or str(ordinal)


def estimate_rows(path: Path) -> int | None:
    """Quick row count for a progress bar (``None`` where counting would cost a full parse)."""
    try:
        fmt = library_format(path)
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(path).metadata.num_rows)
        with _open_text(path) as fh:
            if fmt == "sdf":
                return sum(1 for line in fh if line.startswith("$$$$"))
            n = sum(1 for line in fh if line.strip())
            return max(0, n - 1) if fmt == "csv" else n
    except (OSError, InputError):
        return None
