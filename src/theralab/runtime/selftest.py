"""A small built-in job kind that checks an installation's executor end to end.

``theralab jobs selftest`` squares the integers ``0..n-1`` in chunks and writes them to Parquet.
Its ``crash_once_dir`` parameter kills the worker process the first time a chosen chunk runs
(fault injection), which is how the test suite proves that a job survives a dying worker with no
duplicated or missing rows.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from theralab.errors import InputError


class SelfTestJob:
    """Square ``n`` integers in chunks of ``chunk_size``."""

    def plan(self, params: dict[str, Any], workdir: Path) -> list[dict[str, Any]]:
        n, size = int(params.get("n", 100)), int(params.get("chunk_size", 10))
        if n < 0 or size < 1:
            raise InputError("n must be >= 0 and chunk_size >= 1", where="params")
        return [{"start": s, "stop": min(s + size, n)} for s in range(0, n, size)]

    def run_chunk(self, params: dict[str, Any], index: int, spec: dict[str, Any], workdir: Path) -> dict[str, Any]:
        crash_dir = params.get("crash_once_dir")
        if crash_dir and index == int(params.get("crash_chunk", 0)):
            flag = Path(crash_dir) / f"crashed-{index}"
            if not flag.exists():
                flag.write_text("x")
                os._exit(137)  # simulate a worker killed mid-chunk (no cleanup, no marker)
        log_dir = params.get("attempt_log_dir")
        if log_dir:  # one file per execution, so tests can count re-runs
            (Path(log_dir) / f"run-{index}-{os.getpid()}-{time.monotonic_ns()}").write_text("")
        delay = float(params.get("delay", 0.0))
        if delay:
            time.sleep(delay)
        values = list(range(spec["start"], spec["stop"]))
        table = pa.table({"value": values, "square": [v * v for v in values]})
        out = workdir / "chunks" / f"{index:06d}.parquet"
        tmp = out.with_suffix(".tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, out)
        return {"rows": len(values)}

    def finalize(self, params: dict[str, Any], workdir: Path, stats: list[dict[str, Any]]) -> str:
        parts = sorted((workdir / "chunks").glob("*.parquet"))
        tables = [pq.read_table(p) for p in parts]
        result = workdir / "result.parquet"
        if tables:
            pq.write_table(pa.concat_tables(tables), result)
        else:
            pq.write_table(pa.table({"value": pa.array([], pa.int64()), "square": pa.array([], pa.int64())}), result)
        return str(result)
