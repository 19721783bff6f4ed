"""Registered compound libraries: standardised once, de-duplicated, indexed, reused by every screen.

``register_library("enamine-hll", "hll.smi")`` creates ``<data dir>/libraries/enamine-hll/`` with

* ``molecules.parquet``: one row per unique standardised structure (id, input row, input and
  standardised SMILES, InChIKey, descriptors, rule sets, alerts): the screening pipeline reads this
  instead of the raw file, so standardisation and profiling are never repeated;
* ``invalid.csv`` (rows that are not molecules, with the reason) and ``duplicates.csv`` (rows whose
  InChIKey was already seen, with the id they collapsed into);
* ``index/``: the fingerprint similarity/substructure index (``theralab screen search``);
* ``library.json``: provenance: source path and sha256, counts, fingerprint, settings, versions.

A run file names a registered library by name (``library = "enamine-hll"``).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from theralab import __version__
from theralab.errors import ConflictError, InputError, NotFoundError
from theralab.models.registry import sha256_file

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")


def libraries_dir() -> Path:
    """``<data dir>/libraries``."""
    from theralab.settings import get_settings

    return Path(get_settings().data_dir) / "libraries"


def library_path(name: str) -> Path:
    """The folder of a registered library; NotFoundError when it is not registered."""
    root = libraries_dir() / name
    if not NAME.match(name) or not (root / "library.json").exists():
        known = ", ".join(r["name"] for r in list_libraries()) or "none"
        raise NotFoundError(f"no registered library {name!r}", hint=f"registered: {known}; add one with "
                            "'theralab screen library add NAME FILE'")
    return root


def list_libraries() -> list[dict[str, Any]]:
    """Every registered library's manifest."""
    root = libraries_dir()
    if not root.exists():
        return []
    return [json.loads(p.read_text()) for p in sorted(root.glob("*/library.json"))]


def register_library(
    name: str,
    source: str | Path,
    *,
    smiles_column: str | None = None,
    id_column: str | None = None,
    standardize: bool = True,
    fp: str = "morgan2",
    bits: int = 2048,
    replace: bool = False,
    progress: Callable[[str, float | None], None] | None = None,
) -> dict[str, Any]:
    """Standardise, profile, de-duplicate (InChIKey) and index a library; return its manifest."""
    from theralab.chem.profile import profile_file
    from theralab.chem.search.index import build_index

    if not NAME.match(name):
        raise InputError(f"library name {name!r} is not allowed", where="name",
                         hint="letters, digits, '.', '_' and '-', starting with a letter or digit")
    src = Path(source)
    if not src.is_file():
        raise InputError(f"library file {src} does not exist", where=str(src))
    root = libraries_dir() / name
    if (root / "library.json").exists() and not replace:
        raise ConflictError(f"library {name!r} is already registered", hint="pass replace=True (--replace)")
    if root.exists():
        shutil.rmtree(root)
    work = root / "_work"
    work.mkdir(parents=True)

    def say(step: str, fraction: float | None = None) -> None:
        if progress:
            progress(step, fraction)

    say("profiling", 0.0)
    summary = profile_file(src, work / "profile.parquet", smiles_column=smiles_column, id_column=id_column,
                           standardize=standardize,
                           progress=lambda p: say("profiling", p.fraction))
    if summary.valid == 0:
        shutil.rmtree(root)
        raise InputError(f"{src} holds no valid molecule", where=str(src))
    shutil.move(str(work / "profile.invalid.csv"), root / "invalid.csv")
    say("de-duplicating", None)
    seen: dict[str, str] = {}
    duplicates: list[dict[str, Any]] = []
    reader = pq.ParquetFile(work / "profile.parquet")
    writer = None
    for batch in reader.iter_batches(batch_size=50_000):
        table = pa.Table.from_batches([batch])
        keys, ids, rows = (table.column(c).to_pylist() for c in ("inchikey", "id", "row"))
        keep = []
        for key, ident, row in zip(keys, ids, rows, strict=True):
            if key in seen:
                duplicates.append({"row": row, "id": ident, "inchikey": key, "kept_id": seen[key]})
                keep.append(False)
            else:
                seen[key] = ident
                keep.append(True)
        table = table.filter(pa.array(keep))
        if writer is None:
            writer = pq.ParquetWriter(root / "molecules.parquet", table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()
    with open(root / "duplicates.csv", "w") as handle:
        handle.write("row,id,inchikey,kept_id\n")
        for d in duplicates:
            handle.write(f"{d['row']},{d['id']},{d['inchikey']},{d['kept_id']}\n")
    say("indexing", None)
    build_index(root / "molecules.parquet", root / "index", fp=fp, bits=bits, smiles_column="smiles",
                id_column="id", duplicates=False, workers=1)
    shutil.rmtree(work)
    manifest = {
        "name": name,
        "source": str(src.resolve()),
        "source_sha256": sha256_file(src),
        "created": datetime.now(UTC).isoformat(),
        "rows": summary.rows,
        "valid": summary.valid,
        "invalid": summary.invalid,
        "duplicates": len(duplicates),
        "unique": len(seen),
        "standardized": standardize,
        "fingerprint": {"name": fp, "bits": bits},
        "molecules": str(root / "molecules.parquet"),
        "index": str(root / "index"),
        "theralab": __version__,
    }
    (root / "library.json").write_text(json.dumps(manifest, indent=2))
    say("done", 1.0)
    return manifest
