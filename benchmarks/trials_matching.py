"""Patient-trial matching figures: correctness, speed, and a small real-world check.

Sections (run one, or ``all``):

* ``accuracy``: the 15-criterion structured trial (``theralab.trials.matching.synthetic``) on a
  seeded synthetic cohort; the engine (SQL over the ``ehr_*`` tables) against an oracle that reads
  the generator's FHIR with plain Python. Criterion-level accuracy; goal 100 %.
* ``synthea``: the same on the Synthea CSV export (27 patients) and the Synthea bulk FHIR export.
* ``speed``: the 15-criterion trial against N synthetic patients (default 100,000) on SQLite and on
  PostgreSQL (a dedicated schema, dropped afterwards). Loading 100,000 patients through the FHIR
  ingester takes tens of minutes on a small machine, so ``--replicate K`` loads N/K distinct
  patients through the ingester and copies their rows K-1 times with new ids (SQL INSERT..SELECT);
  the timing is of matching, which does not care that records repeat.
* ``trec``: TREC 2021/2022 patient descriptions (``trialgpt/``) paired with trials that are also in
  Chia (criteria text from ``chia/``): eligible (2) vs excluded (1) predicted from the text. TrialGPT
  reports 87.3 % *criterion-level* accuracy (GPT-4); this is *patient-trial-level* accuracy on 33
  pairs: a different measure, shown beside it only as context.

Example::

    python benchmarks/trials_matching.py accuracy --patients 2000
    python benchmarks/trials_matching.py speed --patients 100000 --replicate 10 --db both
    python benchmarks/trials_matching.py trec
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("THERALAB_SHARED_DATA", ROOT.parent / "shared" / "data"))
PG_URL = os.environ.get("THERALAB_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _engine(url: str):
    from sqlalchemy import create_engine

    from theralab.ehr import tables as store
    from theralab.runtime.db import Base
    from theralab.settings import normalise_url
    from theralab.trials import tables as tstore

    eng = create_engine(normalise_url(url))
    Base.metadata.create_all(eng, tables=store.ehr_tables() + tstore.trial_tables())
    return eng


def accuracy(n: int, seed: int) -> dict[str, Any]:
    from theralab.ehr.fhir.ingest import import_resources
    from theralab.ehr.synthetic.cohort import generate_cohort
    from theralab.runtime.db import session_scope
    from theralab.trials.matching.synthetic import FhirPatient, criterion_accuracy

    with tempfile.TemporaryDirectory() as tmp:
        eng = _engine(f"sqlite:///{tmp}/acc.db")
        bundles = list(generate_cohort(n, seed))
        t = time.perf_counter()
        with session_scope(eng) as s:
            import_resources(bundles, s, validate=True)
        load = time.perf_counter() - t
        patients = [FhirPatient([e["resource"] for e in b["entry"]]) for b in bundles]
        with session_scope(eng) as s:
            r = criterion_accuracy(s, patients)
        eng.dispose()
    return {"section": "accuracy", "patients": n, "seed": seed, "load_s": round(load, 1), **_short(r)}


def _short(r: dict[str, Any]) -> dict[str, Any]:
    counts = {c["criterion_id"]: [c["met"], c["not_met"], c["unknown"]] for c in r["status_counts"]}
    return {"pairs": r["pairs"], "agree": r["agree"], "accuracy": r["accuracy"],
            "disagreements": r["disagreements"][:5], "met_notmet_unknown": counts}


def synthea() -> list[dict[str, Any]]:
    from theralab.ehr.fhir.ingest import import_path
    from theralab.ehr.fhir.read import fhir_files, iter_file
    from theralab.ehr.fhir.synthea_csv import iter_synthea_csv
    from theralab.runtime.db import session_scope
    from theralab.trials.matching.synthetic import criterion_accuracy, group_by_patient

    out = []
    for name in ("synthea_csv_27pt", "synthea_bulk_10pt"):
        folder = SHARED / "trials" / name
        if not folder.is_dir():
            out.append({"section": "synthea", "data": name, "skipped": f"{folder} not found"})
            continue
        with tempfile.TemporaryDirectory() as tmp:
            eng = _engine(f"sqlite:///{tmp}/s.db")
            with session_scope(eng) as s:
                rep = import_path(folder, s, strict_codes=False)
            items = (iter_synthea_csv(folder) if name.endswith("csv_27pt")
                     else (x for f in fhir_files(folder) for x in iter_file(f)))
            resources = [r for r, _ in items if isinstance(r, dict)]
            patients = group_by_patient(resources)
            for at in ("2020-01-01", "2025-01-01"):
                from datetime import date

                with session_scope(eng) as s:
                    r = criterion_accuracy(s, patients, at=date.fromisoformat(at))
                out.append({"section": "synthea", "data": name, "at": at, "loaded": rep.total_loaded, **_short(r)})
            eng.dispose()
    return out


def _replicate(eng, copies: int) -> None:
    """Copy every ehr row ``copies`` times with ids suffixed ``~k`` (patients, then child tables)."""
    from sqlalchemy import String, cast, insert, literal, select

    from theralab.ehr import tables as store

    id_cols = {"id", "patient_id", "parent_id", "encounter_id"}
    with eng.begin() as conn:
        for k in range(1, copies + 1):
            for t in (store.PatientRow, *store.CHILD_TABLES):
                table = t.__table__
                suffix = literal(f"~{k}", type_=String())
                cols = [(c + suffix).label(c.name) if c.name in id_cols else c for c in table.c]
                src = select(*cols).where(~cast(table.c.id, String()).contains("~"))
                conn.execute(insert(table).from_select([c.name for c in table.c], src))


def speed(url: str, n: int, replicate: int, validate: bool, runs: int) -> dict[str, Any]:
    from datetime import date

    from sqlalchemy import func, select

    from theralab.ehr import tables as store
    from theralab.ehr.fhir.ingest import import_resources
    from theralab.ehr.synthetic.cohort import generate_patient
    from theralab.runtime.db import session_scope
    from theralab.trials.matching.engine import evaluate_cohort
    from theralab.trials.matching.synthetic import benchmark_trial

    eng = _engine(url)
    with session_scope(eng) as s:
        have = s.scalar(select(func.count()).select_from(store.PatientRow))
    base = n // replicate
    t0 = time.perf_counter()
    if have != n:
        with session_scope(eng) as s:
            for start in range(0, base, 2000):
                batch = [generate_patient(1, i) for i in range(start, min(base, start + 2000))]
                import_resources(batch, s, validate=validate)
                s.commit()
                print(f"  loaded {min(base, start + 2000)}/{base} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
        if replicate > 1:
            _replicate(eng, replicate - 1)
    load = time.perf_counter() - t0
    with session_scope(eng) as s:
        patients = s.scalar(select(func.count()).select_from(store.PatientRow))
        rows = sum(s.scalar(select(func.count()).select_from(t)) for t in store.CHILD_TABLES)
    crit = benchmark_trial()
    times, funnel = [], None
    for _ in range(runs):
        t = time.perf_counter()
        with session_scope(eng) as s:
            cohort = evaluate_cohort(s, crit, at=date(2025, 1, 1))
            funnel = cohort.funnel()
            cohort.ranked(limit=50)
        times.append(time.perf_counter() - t)
    eng.dispose()
    return {"section": "speed", "db": url.split(":")[0], "patients": patients, "clinical_rows": rows,
            "distinct_records": base, "copies": replicate, "validated_load": validate,
            "load_s": round(load, 1), "match_s_first": round(times[0], 2),
            "match_s_median": round(statistics.median(times), 2), "runs": runs, "criteria": 15,
            "eligible": funnel["eligible"] if funnel else None,
            "not_enough_information": funnel["not_enough_information"] if funnel else None}


def speed_pg(n: int, replicate: int, validate: bool, runs: int, schema: str | None = None) -> dict[str, Any]:
    """Speed on PostgreSQL in a dedicated schema: a fresh one dropped afterwards, or ``schema`` kept for reuse."""
    import psycopg

    name = schema or f"tl_bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{name}"')
    except Exception as exc:  # noqa: BLE001 - report and go on
        return {"section": "speed", "db": "postgresql", "skipped": f"PostgreSQL not reachable: {exc}"}
    sep = "&" if "?" in PG_URL else "?"
    try:
        return speed(f"{PG_URL}{sep}options=-csearch_path%3D{name}", n, replicate, validate, runs)
    finally:
        if schema is None:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{name}" CASCADE')


def drop_pg_schema(schema: str) -> None:
    """Drop a schema kept by ``--pg-schema``."""
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def trec() -> dict[str, Any]:
    from theralab.trials.criteria.parse import chia_trial_text, parse_criteria
    from theralab.trials.matching.text import match_text

    chia_dir, tg = SHARED / "trials" / "chia", SHARED / "trials" / "trialgpt"
    if not chia_dir.is_dir() or not tg.is_dir():
        return {"section": "trec", "skipped": "chia/ or trialgpt/ not in ../shared/data/trials"}
    chia = {Path(p).name.split("_")[0] for p in glob.glob(str(chia_dir / "*.txt"))}
    pairs = []
    for year in ("trec_2021", "trec_2022"):
        queries = {}
        for line in (tg / year / "queries.jsonl").read_text().splitlines():
            d = json.loads(line)
            queries[d["_id"]] = d["text"]
        for line in (tg / year / "qrels" / "test.tsv").read_text().splitlines()[1:]:
            q, trial, score = line.split()
            if trial in chia and score in ("1", "2"):
                pairs.append((q, trial, int(score), queries[q]))
    parsed: dict[str, Any] = {}
    conf: Counter[tuple[int, int]] = Counter()
    t = time.perf_counter()
    for _q, trial, label, text in pairs:
        if trial not in parsed:
            parsed[trial] = parse_criteria(chia_trial_text(trial, chia_dir), trial_id=trial)
        pred = 1 if match_text(parsed[trial], text)["prediction"] == "excluded" else 2
        conf[(label, pred)] += 1
    n = len(pairs)
    correct = conf[(1, 1)] + conf[(2, 2)]
    eligible = sum(v for (lab, _), v in conf.items() if lab == 2)
    return {"section": "trec", "pairs": n, "trials": len(parsed), "accuracy": round(correct / n, 4) if n else None,
            "baseline_always_eligible": round(eligible / n, 4) if n else None,
            "confusion_label_pred": {f"{a}->{b}": v for (a, b), v in sorted(conf.items())},
            "excluded_recall": round(conf[(1, 1)] / max(1, conf[(1, 1)] + conf[(1, 2)]), 4),
            "seconds": round(time.perf_counter() - t, 1),
            "peer": "TrialGPT (GPT-4): 87.3 % criterion-level accuracy (a different measure, other data)"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("section", choices=["accuracy", "synthea", "speed", "trec", "all"])
    ap.add_argument("--patients", type=int, default=None, help="cohort size (accuracy: 2000; speed: 100000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both", help="speed: which database")
    ap.add_argument("--sqlite-path", default=None, help="speed: SQLite file (reused when it already holds N patients)")
    ap.add_argument("--replicate", type=int, default=10, help="speed: copies of each distinct record")
    ap.add_argument("--no-validate", action="store_true", help="speed: skip fhir.resources validation on load")
    ap.add_argument("--runs", type=int, default=3, help="speed: timed matching runs")
    ap.add_argument("--pg-schema", default=None, help="speed: keep (and reuse) this PostgreSQL schema")
    ap.add_argument("--drop-pg-schema", action="store_true", help="drop --pg-schema at the end")
    ap.add_argument("--out", default=None, help="append JSON lines here")
    args = ap.parse_args(argv)
    results: list[dict[str, Any]] = []
    if args.section in ("accuracy", "all"):
        results.append(accuracy(args.patients or 2000, args.seed))
    if args.section in ("synthea", "all"):
        results.extend(synthea())
    if args.section in ("trec", "all"):
        results.append(trec())
    if args.section in ("speed", "all"):
        n = args.patients or (100_000 if args.section == "speed" else 2000)
        rep = max(1, min(args.replicate, n))
        if args.db in ("sqlite", "both"):
            path = args.sqlite_path or os.path.join(tempfile.gettempdir(), f"tl_match_bench_{n}_{rep}.db")
            results.append(speed(f"sqlite:///{path}", n, rep, not args.no_validate, args.runs))
        if args.db in ("postgresql", "both"):
            results.append(speed_pg(n, rep, not args.no_validate, args.runs, args.pg_schema))
            if args.pg_schema and args.drop_pg_schema:
                drop_pg_schema(args.pg_schema)
    for r in results:
        line = json.dumps(r, default=str)
        print(line)
        if args.out:
            with open(args.out, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
