"""Build an on-disk fingerprint index, in parallel chunks, resumable after a crash.

Index directory layout (format 1)::

    manifest.json      fp spec, count, invalid/duplicate counts, source, provenance, files
    fps.u64            little-endian uint64, rows sorted by (popcount, input order), stored
                       line-major: (ceil(words / 8), n, 8), i.e. the first 64-byte cache line of
                       every row, then the second line of every row, ...
    offsets.npy        offsets[b] = first row with popcount b; length bits + 2
    ordinal.npy        input row number of each sorted row (ties break on it, as a brute-force scan would)
    pattern.u64        (n, 32) RDKit pattern fingerprints (substructure screen), same row order
    sketch128_cols.u64 (2, n) 128-bit folded sketch, word-major (first-level search pre-filter)
    sketch256_rows.u64 (n, 4) 256-bit folded sketch, row-major (second-level pre-filter)
    molecules.parquet  id, smiles, ordinal in the same row order
    invalid.csv        ordinal, id, smiles, reason for every row RDKit could not read
    duplicates.csv     rows whose canonical SMILES repeats an earlier row (kept in the index)

Why this shape: sorting by popcount turns the Swamidass-Baldi bound into a contiguous slice of
the file, so a search reads only the bins that can still reach the threshold; raw ``.u64`` files
memory-map with no header parsing, so opening a 1.6M-molecule index is instant and several
processes share one page cache. A search reads the 16-byte sketch of every row in the BitBound
range and the 256-byte fingerprint only of rows whose sketch bound still qualifies (see
:mod:`theralab.chem.search.fold`), so most rows cost 16 bytes of memory traffic, not 256.
Indexes written before the sketch files existed get them derived on first search.

Resumability: the library is cut into fixed-size chunks by input order. Each worker writes its
chunk's arrays and table to ``build/`` under a temporary name and renames it when complete, so a
chunk file either exists whole or not at all. A rerun with the same settings skips finished
chunks; the final merge runs only when every chunk is present, and ``build/`` is removed only
after ``manifest.json`` has been written.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from theralab.chem.fingerprints import Fingerprinter, FingerprintSpec, fingerprint_spec
from theralab.chem.search.readers import Record, iter_records
from theralab.errors import InputError

FORMAT_VERSION = 2
PATTERN_SPEC = fingerprint_spec("pattern", 2048)
Progress = Callable[[int], None]


def _mol_and_reason(text: str, kind: str) -> tuple[Any, str]:
    """Parse one record; return ``(mol, "")`` or ``(None, reason)`` with RDKit's own complaint."""
    from rdkit import Chem

    if not text.strip():
        return None, "empty SMILES" if kind == "smiles" else "empty record"
    if kind == "molblock":
        mol = Chem.MolFromMolBlock(text, sanitize=False)
    else:
        mol = Chem.MolFromSmiles(text, sanitize=False)
    if mol is None:
        return None, "cannot parse SMILES (syntax)" if kind == "smiles" else "cannot parse mol block"
    try:
        Chem.SanitizeMol(mol)
    except Exception as exc:  # RDKit raises several sanitization exception types
        return None, f"sanitization failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    if mol.GetNumAtoms() == 0:
        return None, "no atoms"
    return mol, ""


def process_chunk(
    records: list[Record],
    kind: str,
    spec_d: dict[str, Any],
    substructure: bool,
    out_stem: str,
    duplicates: bool = True,
) -> int:
    """Fingerprint one chunk and write ``<stem>.npz`` then ``<stem>.parquet`` (the completion mark).

    Runs in a worker process (or in this one with one worker); returns the number of records
    handled (for progress). Reasons are recorded per row, so RDKit is kept quiet for the chunk
    only: a process-wide ``DisableLog`` here silenced the warnings every later reader collects.
    """
    from rdkit import rdBase

    with rdBase.BlockLogs():
        return _fingerprint_chunk(records, kind, spec_d, substructure, out_stem, duplicates)


def _fingerprint_chunk(records: list[Record], kind: str, spec_d: dict[str, Any], substructure: bool,
                       out_stem: str, duplicates: bool) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from rdkit import Chem

    cpu0 = time.process_time()
    spec = FingerprintSpec(spec_d["name"], spec_d["bits"], spec_d["params"])
    fper = Fingerprinter(spec)
    pat = Fingerprinter(PATTERN_SPEC) if substructure else None
    ordinals, ids, smiles, canon, reasons = [], [], [], [], []
    bits, pbits = [], []
    for ordinal, ident, text in records:
        mol, reason = _mol_and_reason(text, kind)
        if mol is not None:
            try:
                b = fper.bits(mol)
                pb = pat.bits(mol) if pat is not None else None
                # canonical SMILES: the duplicate key (about 30% of the per-molecule cost)
                can = Chem.MolToSmiles(mol) if duplicates or kind == "molblock" else None
            except Exception as exc:  # a molecule RDKit parses but cannot fingerprint
                mol, reason = None, f"fingerprint failed: {exc}"
        ordinals.append(ordinal)
        ids.append(ident)
        if mol is None:
            smiles.append(text if kind == "smiles" else "")
            canon.append(None)
            reasons.append(reason)
            continue
        smiles.append(text if kind == "smiles" else can)
        canon.append(can if duplicates else None)
        reasons.append(None)
        bits.append(b)
        if pb is not None:
            pbits.append(pb)
    from theralab.chem.fingerprints import pack_bits

    fps = pack_bits(np.stack(bits), spec.words) if bits else np.zeros((0, spec.words), np.uint64)
    arrays = {
        "fps": fps,
        "counts": np.bitwise_count(fps).sum(axis=1, dtype=np.int64),
        "ordinals": np.array([o for o, r in zip(ordinals, reasons, strict=True) if r is None], np.int64),
    }
    if pat is not None:
        arrays["pattern"] = (
            pack_bits(np.stack(pbits), PATTERN_SPEC.words) if pbits else np.zeros((0, PATTERN_SPEC.words), np.uint64)
        )
    arrays["cpu_seconds"] = np.array(time.process_time() - cpu0)
    tmp = out_stem + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, out_stem + ".npz")
    table = pa.table(
        {
            "ordinal": pa.array(ordinals, pa.int64()),
            "id": pa.array(ids, pa.string()),
            "smiles": pa.array(smiles, pa.string()),
            "canonical": pa.array(canon, pa.string()),
            "reason": pa.array(reasons, pa.string()),
        }
    )
    pq.write_table(table, out_stem + ".tmp.parquet")
    os.replace(out_stem + ".tmp.parquet", out_stem + ".parquet")
    return len(records)


def _source_fingerprint(path: Path) -> dict[str, Any]:
    st = path.stat()
    return {"path": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _chunked(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    while True:
        chunk = list(islice(records, size))
        if not chunk:
            return
        yield chunk


def build_index(
    source: str | Path,
    out_dir: str | Path,
    *,
    fp: str = "morgan2",
    bits: int | None = None,
    smiles_column: str | None = None,
    id_column: str | None = None,
    chunk_size: int = 50_000,
    workers: int | None = None,
    substructure: bool = True,
    duplicates: bool = True,
    fresh: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Build (or resume building) a fingerprint index of a molecule library.

    Args:
        source: SMILES (.smi/.ism), CSV/TSV, Parquet or SDF file, optionally gzipped.
        out_dir: index directory (created).
        fp: fingerprint name (see :data:`theralab.chem.fingerprints.FP_TYPES`).
        bits: fingerprint length (default: the type's default, 2048 for Morgan).
        smiles_column: SMILES column for CSV/Parquet (guessed when omitted).
        id_column: id column (CSV/Parquet) or SDF property.
        chunk_size: molecules per work unit; also the granularity of resuming.
        workers: worker processes (default: all cores); 1 runs in this process.
        substructure: also store pattern fingerprints for substructure search.
        duplicates: report repeated structures (canonical SMILES); off saves about 30% of the
            build time when the library is known to be unique.
        fresh: discard finished chunks of an earlier, different build instead of refusing.
        progress: called with the number of rows finished each time a chunk completes
            (including chunks skipped because an earlier run finished them).

    Returns:
        The manifest (also written to ``out_dir/manifest.json``).

    Raises:
        InputError: bad options, a half-built index from different settings, or a library
            without a single valid molecule.
    """
    source, out = Path(source), Path(out_dir)
    spec = fingerprint_spec(fp, bits)
    if chunk_size < 1:
        raise InputError("chunk_size must be at least 1", where="chunk_size")
    workers = max(1, workers or os.cpu_count() or 1)
    kind, records = iter_records(source, smiles_column, id_column)
    config = {
        "format": FORMAT_VERSION,
        "source": _source_fingerprint(source),
        "fp": spec.to_dict(),
        "smiles_column": smiles_column,
        "id_column": id_column,
        "chunk_size": chunk_size,
        "substructure": substructure,
        "duplicates": duplicates,
    }
    manifest_path = out / "manifest.json"
    if manifest_path.exists():
        old = json.loads(manifest_path.read_text())
        if old.get("build_config") == config and not fresh:
            return old  # already built from this very file with these settings
        if not fresh:
            raise InputError(
                f"{out} already holds an index built with other settings or from another file",
                where=str(out),
                hint="choose another output folder, or pass fresh=True (--fresh)",
            )
    build = out / "build"
    state_path = build / "state.json"
    if build.exists():
        same = state_path.exists() and json.loads(state_path.read_text()) == config
        if not same and not fresh:
            raise InputError(
                f"{build} holds an unfinished build with other settings or from another file",
                where=str(build),
                hint="rerun with the same settings, or pass fresh=True (--fresh)",
            )
        if not same:
            shutil.rmtree(build)
    if fresh and manifest_path.exists():
        manifest_path.unlink()
    build.mkdir(parents=True, exist_ok=True)
    state_path.write_text(json.dumps(config, indent=1))

    t0 = time.perf_counter()
    resumed = 0
    n_chunks = 0
    pending: set[Future[int]] = set()
    pool = ProcessPoolExecutor(max_workers=workers) if workers > 1 else None
    try:
        for k, chunk in enumerate(_chunked(records, chunk_size)):
            n_chunks = k + 1
            stem = str(build / f"chunk_{k:06d}")
            if Path(stem + ".parquet").exists():
                resumed += 1
                if progress:
                    progress(len(chunk))
                continue
            if pool is None:
                done_rows = process_chunk(chunk, kind, spec.to_dict(), substructure, stem, duplicates)
                if progress:
                    progress(done_rows)
                continue
            pending.add(pool.submit(process_chunk, chunk, kind, spec.to_dict(), substructure, stem, duplicates))
            while len(pending) >= 2 * workers:
                pending = _drain(pending, progress, FIRST_COMPLETED)
        _drain(pending, progress, None)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    fp_seconds = time.perf_counter() - t0
    from theralab.chem.search.merge import merge_chunks

    manifest = merge_chunks(build, out, spec, n_chunks, substructure, duplicates)
    manifest.update(
        build_config=config,
        resumed_chunks=resumed,
        chunks=n_chunks,
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        build_seconds=round(time.perf_counter() - t0, 3),
        fingerprint_seconds=round(fp_seconds, 3),
        workers=workers,
        provenance=_provenance(),
    )
    if manifest["count"] == 0:
        raise InputError(
            f"no valid molecule in {source.name} ({manifest['invalid']} invalid rows)",
            where=str(source),
            hint=f"see {out / 'invalid.csv'} for the reasons; for CSV/Parquet check --smiles-column",
        )
    tmp = out / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, manifest_path)
    shutil.rmtree(build, ignore_errors=True)
    return manifest


def _drain(pending: set[Future[int]], progress: Progress | None, mode: str | None) -> set[Future[int]]:
    if not pending:
        return pending
    done, rest = wait(pending, return_when=mode or "ALL_COMPLETED")
    for fut in done:
        n = fut.result()  # re-raises a worker's exception here
        if progress:
            progress(n)
    return set(rest)


def _provenance() -> dict[str, str]:
    import platform

    import rdkit

    from theralab import __version__

    return {
        "theralab": __version__,
        "rdkit": rdkit.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }
