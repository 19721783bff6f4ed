"""Library records for the index build, read by :mod:`theralab.chem.io` (the one molecule reader).

Why a thin adapter and not a reader: an index build hands fixed-size chunks of *unparsed* records to
worker processes (parsing is the expensive part and runs in parallel), while every other command
wants :class:`~theralab.chem.io.MolRecord` objects. Both come from the same reader, so a file gives
the same formats, columns, ids and encoding rules in ``screen index``, ``screen library add``,
``screen run``, ``chem profile`` and ``admet predict`` (see the table in ``docs/chem.md``).

Every record is ``(ordinal, id, text)``: ``ordinal`` is the 0-based position in the file (the
index's row key), ``text`` a SMILES or, for SD files, the raw mol block (``kind`` says which).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from theralab.chem.io import MoleculeReader, detect_format
from theralab.errors import InputError, NotFoundError

Record = tuple[int, str, str]  # (ordinal, id, smiles or mol block)


def library_format(path: Path) -> str:
    """``smiles``, ``csv``, ``tsv``, ``parquet`` or ``sdf`` from the file name (``.gz`` allowed)."""
    return detect_format(Path(path))


def iter_records(
    path: Path, smiles_column: str | None = None, id_column: str | None = None
) -> tuple[str, Iterator[Record]]:
    """Open a library and return ``(kind, records)``; ``kind`` is ``smiles`` or ``molblock``.

    Ids follow :mod:`theralab.chem.io`: the id column (CSV/TSV/Parquet), the rest of the line
    after the SMILES (SMILES files, the Daylight convention), the ``id_column`` data field or the
    title line (SDF), and otherwise the 1-based row number.

    Raises:
        NotFoundError: the file does not exist.
        InputError: unknown format, missing column, binary or empty file.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"library file {path} does not exist", where=str(path))
    reader = MoleculeReader(path, smiles_column=smiles_column, id_column=id_column, parse=False,
                            chunk_size=50_000)
    if reader.format == "sdf":
        return "molblock", ((row - 1, ident, block) for row, ident, block in reader.sd_blocks())
    return "smiles", ((rec.row - 1, rec.id, rec.smiles) for rec in reader)


def estimate_rows(path: Path) -> int | None:
    """Quick row count for a progress bar (``None`` where counting would cost a full parse)."""
    import gzip

    try:
        fmt = library_format(path)
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(path).metadata.num_rows)
        opener = gzip.open if str(path).lower().endswith(".gz") else open
        with opener(path, "rb") as fh:
            if fmt == "sdf":
                return sum(1 for line in fh if line.startswith(b"$$$$"))
            n = sum(1 for line in fh if line.strip())
            return max(0, n - 1) if fmt in ("csv", "tsv") else n
    except (OSError, InputError):
        return None
