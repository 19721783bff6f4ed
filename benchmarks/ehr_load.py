"""Bulk FHIR load speed, SQLite against PostgreSQL in the same run, batch by batch.

Loads N synthetic patients (``theralab.ehr.synthetic.generate_patient``, about 64 clinical rows each)
through :func:`theralab.ehr.fhir.import_resources` in batches, one transaction per batch, as
``benchmarks/trials_matching.py speed`` does, and prints the seconds of every batch: a load whose
batches get slower as the table grows (a sequential scan per batch) shows it here. PostgreSQL runs in
a fresh schema of the local ``test`` database, dropped afterwards. Optionally a second pass re-imports
the first batch with one changed observation (the delete path).

    python benchmarks/ehr_load.py --patients 6000 --batch 1000
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

PG_URL = os.environ.get("THERALAB_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def load(url: str, n: int, batch: int, connect_args: dict[str, Any] | None = None) -> dict[str, Any]:
    """Load ``n`` patients into a fresh database at ``url``; seconds per batch, then a re-import."""
    from sqlalchemy import create_engine

    from theralab.ehr import tables as store
    from theralab.ehr.fhir import import_resources
    from theralab.ehr.synthetic import generate_patient
    from theralab.runtime.db import Base, session_scope

    eng = create_engine(url, connect_args=connect_args or {})
    Base.metadata.create_all(eng, tables=store.ehr_tables())
    times = []
    for start in range(0, n, batch):
        bundles = [generate_patient(1, i) for i in range(start, min(n, start + batch))]
        t = time.perf_counter()
        with session_scope(eng) as s:
            import_resources(bundles, s, validate=False)
        times.append(round(time.perf_counter() - t, 2))
    bundles = [generate_patient(1, i) for i in range(batch)]
    for b in bundles:  # one changed observation per patient: the component-delete path
        obs = next(e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "Observation")
        obs["status"] = "amended"
    t = time.perf_counter()
    with session_scope(eng) as s:
        rep = import_resources(bundles, s, validate=False)
    reimport = round(time.perf_counter() - t, 2)
    eng.dispose()
    return {"batches_s": times, "total_s": round(sum(times), 1), "reimport_s": reimport,
            # older reports (before issue 19) have no new/updated/unchanged counts
            "reimport_updated": getattr(rep, "updated", None),
            "reimport_unchanged_total": sum(getattr(rep, "unchanged", {}).values())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patients", type=int, default=6000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = ap.parse_args(argv)
    out: dict[str, Any] = {"patients": args.patients, "batch": args.batch}
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as d:
            out["sqlite"] = load(f"sqlite:///{Path(d) / 'load.db'}", args.patients, args.batch)
        print(json.dumps({"sqlite": out["sqlite"]}), flush=True)
    if args.db in ("postgresql", "both"):
        from sqlalchemy import create_engine, text

        schema = f"tl_load_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_URL)
        with admin.begin() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            out["postgresql"] = load(PG_URL, args.patients, args.batch, {"options": f"-csearch_path={schema}"})
        finally:
            with admin.begin() as c:
                c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
        print(json.dumps({"postgresql": out["postgresql"]}), flush=True)
    if "sqlite" in out and "postgresql" in out:
        out["ratio_pg_over_sqlite"] = round(out["postgresql"]["total_s"] / out["sqlite"]["total_s"], 2)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
