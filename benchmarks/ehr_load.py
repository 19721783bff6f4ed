"""Bulk FHIR load speed, SQLite against PostgreSQL in the same run, batch by batch.

Loads N synthetic patients (``theralab.ehr.synthetic.generate_patient``, about 64 clinical rows each)
through :func:`theralab.ehr.fhir.import_resources` in batches, one transaction per batch, as
``benchmarks/trials_matching.py speed`` does, and prints the seconds of every batch: a load whose
batches get slower as the table grows (a sequential scan per batch) shows it here. PostgreSQL runs in
a fresh schema of the database ``THERALAB_TEST_PG`` (default: the local ``test`` database), dropped
afterwards. A second pass re-imports the first batch with one changed observation per patient (the
delete path).

Both databases are opened as the product opens them (``theralab.runtime.db.get_engine``): the schema
comes from the migrations, and SQLite has foreign keys on, WAL and ``synchronous=NORMAL``.
``--bare`` gives the engines of the figures before issue 19's last round (``create_all`` tables, a
plain SQLite connection: no foreign-key checks, rollback journal).

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


def load(url: str, n: int, batch: int, schema: str | None = None, bare: bool = False) -> dict[str, Any]:
    """Load ``n`` patients into a fresh database at ``url``; seconds per batch, then a re-import."""
    from sqlalchemy import create_engine

    from theralab.ehr import tables as store
    from theralab.ehr.fhir import import_resources
    from theralab.ehr.synthetic import generate_patient
    from theralab.runtime.db import Base, get_engine, reset_engine, session_scope

    if bare:
        eng = create_engine(url, connect_args={"options": f"-csearch_path={schema}"} if schema else {})
        Base.metadata.create_all(eng, tables=store.ehr_tables())
    else:
        sep = "&" if "?" in url else "?"
        eng = get_engine(f"{url}{sep}options=-csearch_path%3D{schema}" if schema else url)
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
    reset_engine()
    return {"batches_s": times, "total_s": round(sum(times), 1), "reimport_s": reimport,
            # older reports (before issue 19) have no new/updated/unchanged counts
            "reimport_updated": getattr(rep, "updated", None),
            "reimport_unchanged_total": sum(getattr(rep, "unchanged", {}).values())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patients", type=int, default=6000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--bare", action="store_true", help="the engines of the earlier figures (see above)")
    args = ap.parse_args(argv)
    out: dict[str, Any] = {"patients": args.patients, "batch": args.batch,
                           "engines": "bare" if args.bare else "product",
                           "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as d:
            out["sqlite"] = load(f"sqlite:///{Path(d) / 'load.db'}", args.patients, args.batch, bare=args.bare)
        print(json.dumps({"sqlite": out["sqlite"]}), flush=True)
    if args.db in ("postgresql", "both"):
        from sqlalchemy import create_engine, text

        schema = f"tl_load_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_URL)
        with admin.begin() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            out["postgresql"] = load(PG_URL, args.patients, args.batch, schema, bare=args.bare)
        finally:
            with admin.begin() as c:
                c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
        print(json.dumps({"postgresql": out["postgresql"]}), flush=True)
    if "sqlite" in out and "postgresql" in out:
        out["ratio_pg_over_sqlite"] = round(out["postgresql"]["total_s"] / out["sqlite"]["total_s"], 2)
    out["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
