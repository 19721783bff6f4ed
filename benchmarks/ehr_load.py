"""Bulk FHIR load speed, SQLite against PostgreSQL in the same run, batch by batch.

Loads N synthetic patients (``theralab.ehr.synthetic.generate_patient``, about 64 clinical rows each)
through :func:`theralab.ehr.fhir.import_resources` in batches, one transaction per batch, as
``benchmarks/trials_matching.py speed`` does, and prints the seconds of every batch: a load whose
batches get slower as the table grows (a sequential scan per batch) shows it here. PostgreSQL runs in
a fresh schema of the database ``THERALAB_TEST_PG`` (default: the local ``test`` database), dropped
afterwards. A second pass re-imports the first batch with one changed observation per patient (the
delete path).

Fair under a shared, changing load: the two databases load the same batch one after the other
(which goes first alternates), so both see the same machine at the same moment; the ratio is of the
summed batch times.

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
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

PG_URL = os.environ.get("THERALAB_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def open_engine(url: str, schema: str | None = None, bare: bool = False) -> Any:
    """A fresh database at ``url`` (in ``schema`` on PostgreSQL) with the EHR tables."""
    from sqlalchemy import create_engine

    from theralab.ehr import tables as store
    from theralab.runtime.db import Base, get_engine

    if bare:
        eng = create_engine(url, connect_args={"options": f"-csearch_path={schema}"} if schema else {})
        Base.metadata.create_all(eng, tables=store.ehr_tables())
        return eng
    sep = "&" if "?" in url else "?"
    return get_engine(f"{url}{sep}options=-csearch_path%3D{schema}" if schema else url)


def load_batch(eng: Any, bundles: list[dict[str, Any]]) -> tuple[float, Any]:
    """Seconds to import ``bundles`` in one transaction, and the import report."""
    from theralab.ehr.fhir import import_resources
    from theralab.runtime.db import session_scope

    t = time.perf_counter()
    with session_scope(eng) as s:
        rep = import_resources(bundles, s, validate=False)
    return round(time.perf_counter() - t, 2), rep


def run(engines: dict[str, Any], n: int, batch: int) -> dict[str, Any]:
    """Load ``n`` patients into every engine, batch by batch, alternating which goes first."""
    from theralab.ehr.synthetic import generate_patient

    names = list(engines)
    times: dict[str, list[float]] = {k: [] for k in names}
    for k, start in enumerate(range(0, n, batch)):
        bundles = [generate_patient(1, i) for i in range(start, min(n, start + batch))]  # import does not mutate
        for name in names if k % 2 == 0 else names[::-1]:
            times[name].append(load_batch(engines[name], bundles)[0])
        print(json.dumps({"batch": k, **{name: times[name][-1] for name in names},
                          "load_average": round(os.getloadavg()[0], 2)}), flush=True)
    bundles = [generate_patient(1, i) for i in range(batch)]
    for b in bundles:  # one changed observation per patient: the component-delete path
        obs = next(e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "Observation")
        obs["status"] = "amended"
    out: dict[str, Any] = {}
    for name in names:
        secs, rep = load_batch(engines[name], bundles)
        out[name] = {"batches_s": times[name], "total_s": round(sum(times[name]), 1), "reimport_s": secs,
                     "reimport_updated": rep.updated, "reimport_unchanged_total": sum(rep.unchanged.values())}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patients", type=int, default=6000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--bare", action="store_true", help="the engines of the earlier figures (see above)")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stopped run still drops its schema
    from sqlalchemy import create_engine, text

    from theralab.runtime.db import reset_engine

    out: dict[str, Any] = {"patients": args.patients, "batch": args.batch,
                           "engines": "bare" if args.bare else "product",
                           "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    schema = f"tl_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL)
    with tempfile.TemporaryDirectory() as d:
        engines: dict[str, Any] = {}
        try:
            if args.db in ("sqlite", "both"):
                engines["sqlite"] = open_engine(f"sqlite:///{Path(d) / 'load.db'}", bare=args.bare)
            if args.db in ("postgresql", "both"):
                with admin.begin() as c:
                    c.execute(text(f'CREATE SCHEMA "{schema}"'))
                engines["postgresql"] = open_engine(PG_URL, schema, bare=args.bare)
            out.update(run(engines, args.patients, args.batch))
        finally:
            for eng in engines.values():
                eng.dispose()
            reset_engine()
            if "postgresql" in engines:
                with admin.begin() as c:
                    c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    if "sqlite" in out and "postgresql" in out:
        out["ratio_pg_over_sqlite"] = round(out["postgresql"]["total_s"] / out["sqlite"]["total_s"], 2)
    out["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
