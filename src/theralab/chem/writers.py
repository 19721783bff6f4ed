"""Writers for profile and screening tables: CSV, TSV, Parquet (one schema across chunks) and SDF.

Split from :mod:`theralab.chem.io` (readers) so each fits in one reading; ``theralab.chem.io``
re-exports these names.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import pandas as pd
from rdkit import Chem

from theralab.errors import InputError

OUTPUT_FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet", ".sdf": "sdf"}


def output_format(path: Path) -> str:
    """Return the output format for ``path`` (``csv``, ``tsv``, ``parquet`` or ``sdf``)."""
    fmt = OUTPUT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"cannot write '{path.name}': unknown output format",
            where=str(path),
            hint="name the output .csv, .tsv, .parquet or .sdf",
        )
    return fmt


class TableWriter:
    """Append DataFrame chunks to a CSV, TSV, Parquet or SD file, keeping one schema throughout.

    Chunks are written as they come, so a crash loses at most the chunk in flight, and closing
    the writer (also on error) leaves a complete, readable file. For SD output the DataFrame must
    hold a ``smiles`` column; the other columns become SD data fields.
    """

    def __init__(self, path: str | os.PathLike[str], *, smiles_column: str = "smiles", id_column: str = "id") -> None:
        self.path = Path(path)
        self.format = output_format(self.path)
        self.smiles_column = smiles_column
        self.id_column = id_column
        self.rows = 0
        self._fh: IO[str] | None = None
        self._pq = None
        self._schema = None
        self._sd: Chem.SDWriter | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, df: pd.DataFrame) -> None:
        """Append one chunk (an empty chunk still writes the CSV header on first use)."""
        if self.format in ("csv", "tsv"):
            first = self._fh is None
            if first:
                self._fh = open(self.path, "w", encoding="utf-8", newline="")  # noqa: SIM115
            df.to_csv(
                self._fh,
                index=False,
                header=first,
                sep="\t" if self.format == "tsv" else ",",
                lineterminator="\n",
            )
        elif self.format == "parquet":
            self._write_parquet(df)
        else:
            self._write_sdf(df)
        self.rows += len(df)

    def _write_parquet(self, df: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._pq is None:
            schema = pa.Schema.from_pandas(df, preserve_index=False)
            fields = [pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in schema]
            self._schema = pa.schema(fields)
            self._pq = pq.ParquetWriter(self.path, self._schema)
        table = pa.Table.from_pandas(df, schema=self._schema, preserve_index=False)
        self._pq.write_table(table)

    def _write_sdf(self, df: pd.DataFrame) -> None:
        if self._sd is None:
            self._sd = Chem.SDWriter(str(self.path))
        props = [c for c in df.columns if c != self.smiles_column]
        for rec in df.to_dict(orient="records"):
            mol = Chem.MolFromSmiles(str(rec.get(self.smiles_column) or ""))
            if mol is None:
                continue
            mol.SetProp("_Name", str(rec.get(self.id_column, "")))
            for p in props:
                value = rec[p]
                mol.SetProp(p, "" if value is None else str(value))
            self._sd.write(mol)

    def close(self) -> None:
        """Flush and close; a Parquet or SD file is complete after this."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._pq is not None:
            self._pq.close()
            self._pq = None
        if self._sd is not None:
            self._sd.close()
            self._sd = None


def write_table(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a whole DataFrame as CSV, TSV, Parquet or SDF (by suffix) and return the path."""
    with TableWriter(path) as writer:
        writer.write(df)
    return writer.path


def write_sdf(
    mols: Sequence[Chem.Mol],
    path: str | os.PathLike[str],
    *,
    ids: Sequence[str] | None = None,
    props: pd.DataFrame | None = None,
) -> Path:
    """Write molecules to an SD file, with titles from ``ids`` and data fields from ``props``."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    records = props.to_dict(orient="records") if props is not None else [{}] * len(mols)
    with Chem.SDWriter(str(out)) as writer:
        for i, mol in enumerate(mols):
            m = Chem.Mol(mol)
            if ids is not None:
                m.SetProp("_Name", str(ids[i]))
            for key, value in records[i].items():
                m.SetProp(str(key), "" if value is None else str(value))
            writer.write(m)
    return out
