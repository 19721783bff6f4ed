"""Coverage-guided fuzzing of theralab's Python parsers with atheris (libFuzzer), a fixed budget each.

Each target runs in its own process (libFuzzer runs once per process) for ``--seconds`` seconds with
theralab's modules instrumented, so the fuzzer steers towards new branches of our code. An input
may end in a result or in the project's clear error (``InputError``/``TheralabError``); anything else
is a crash: libFuzzer stops, prints the traceback and writes the input to ``--out``.

Targets:
    payload   — device payloads over MQTT: bytes -> JSON -> envelope -> readings
    fhir      — FHIR ingest of any text (Bundle, resource, ndjson) into an in-memory SQLite EHR
    criteria  — the eligibility-criteria segmenter (headers, bullets, inclusion/exclusion)
    csv       — the molecule reader on any CSV bytes (chem.io)
    deid      — Safe Harbor scrubbing of any note text
    vcf       — the PGx VCF reader on any bytes (its C library, htslib, underneath)

Run: ``python benchmarks/fuzz.py --seconds 60`` (all targets) or ``--target fhir``. Prints per
target the executions, executions per second, new coverage features and crashes.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

TARGETS = ["payload", "fhir", "criteria", "csv", "deid", "vcf"]


def _target(name: str):  # noqa: C901 - one small closure per target
    """The one-input function of ``name`` (imports instrumented by the caller)."""
    from theralab.errors import TheralabError

    if name == "payload":
        from theralab.monitoring.streams import parse_payload
        from theralab.monitoring.streams.schemas import load_json, split_envelope

        def run(data: bytes) -> None:
            token, content = split_envelope(load_json(data))
            parse_payload(content, "dev-1")

    elif name == "fhir":
        from sqlalchemy import create_engine
        from sqlalchemy.orm import Session

        from theralab.ehr import tables as store
        from theralab.ehr.fhir import import_text
        from theralab.runtime.db import Base

        engine = create_engine("sqlite://")
        Base.metadata.create_all(engine, tables=store.ehr_tables())

        def run(data: bytes) -> None:
            with Session(engine) as session:
                try:
                    import_text(data.decode("utf-8", "replace"), session, source="fuzz")
                finally:
                    session.rollback()

    elif name == "criteria":
        from theralab.trials.criteria.text import split_items

        def run(data: bytes) -> None:
            split_items(data.decode("utf-8", "replace"))

    elif name == "csv":
        from theralab.chem.io import read_molecules

        tmp = Path(tempfile.mkdtemp(prefix="theralab-fuzz-")) / "in.csv"

        def run(data: bytes) -> None:
            tmp.write_bytes(data)
            for _ in read_molecules(tmp):
                pass

    elif name == "deid":
        from theralab.privacy.deid import DeidConfig, Deidentifier

        deid = Deidentifier(DeidConfig(key=b"fuzz-key"))

        def run(data: bytes) -> None:
            deid.scrub_text(data.decode("utf-8", "replace"), "p1", names=["Ann Smith"])

    elif name == "vcf":
        from theralab.precision.pgx.definitions import load_definitions
        from theralab.precision.pgx.vcf import read_vcf

        defs = load_definitions()
        tmp = Path(tempfile.mkdtemp(prefix="theralab-fuzz-")) / "in.vcf"

        def run(data: bytes) -> None:
            tmp.write_bytes(data)
            read_vcf(tmp, defs)

    else:
        raise SystemExit(f"unknown target {name!r}; choose from {', '.join(TARGETS)}")

    def one_input(data: bytes) -> None:
        try:
            run(data)
        except TheralabError:
            pass  # the project's clear error: a correct answer to a bad input

    return one_input


SEEDS = {
    "payload": [b'{"token":"t","readings":[{"code":"8867-4","value":72,"unit":"/min","at":"2026-01-01T00:00:00Z"}]}',
                b'{"token":"t","payload":{"resourceType":"Observation","code":{"coding":[{"system":"http://loinc.org",'
                b'"code":"8867-4"}]},"valueQuantity":{"value":70,"code":"/min"},"effectiveDateTime":"2026-01-01"}}'],
    "fhir": [b'{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","id":"p1",'
             b'"gender":"female","birthDate":"1970-01-01"}},{"resource":{"resourceType":"Observation","id":"o1",'
             b'"status":"final","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://loinc.org",'
             b'"code":"718-7"}]},"valueQuantity":{"value":13.1,"unit":"g/dL"},"effectiveDateTime":"2020-01-01"}}]}'],
    "criteria": [b"Inclusion Criteria:\n- Age >= 18 years\n- HbA1c 7-10%\nExclusion Criteria:\n* pregnancy\n"],
    "csv": [b"smiles,id\nCCO,1\nc1ccccc1,2\nC1CC(,3\n"],
    "deid": [b"Seen 03/04/2019 by Dr. Ann Smith, MRN 123456, phone (555) 123-4567, ann@example.org, 94110."],
    "vcf": [b"##fileformat=VCFv4.2\n##FORMAT=<ID=GT,Number=1,Type=String,Description=\"GT\">\n"
            b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\nchr10\t94761900\t.\tC\tT\t.\tPASS\t.\tGT\t0/1\n"],
}


def child(name: str, seconds: int, out: Path) -> None:
    """Fuzz one target in this process (called in a subprocess by :func:`main`)."""
    import atheris

    with atheris.instrument_imports(include=["theralab"]):
        one_input = _target(name)
    corpus = out / f"corpus-{name}"
    corpus.mkdir(parents=True, exist_ok=True)
    for i, seed in enumerate(SEEDS.get(name, [])):
        (corpus / f"seed-{i}").write_bytes(seed)
    atheris.Setup([sys.argv[0], f"-max_total_time={seconds}", "-rss_limit_mb=4096", "-timeout=20",
                   f"-artifact_prefix={out}/crash-{name}-", "-print_final_stats=1", str(corpus)], one_input)
    atheris.Fuzz()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=TARGETS, action="append", help="target(s); default all")
    parser.add_argument("--seconds", type=int, default=60, help="budget per target (max 600)")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "theralab-fuzz")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    seconds = max(1, min(args.seconds, 600))
    args.out.mkdir(parents=True, exist_ok=True)
    if args.child:
        child(args.child, seconds, args.out)
        return
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    print(f"atheris, {seconds} s per target, crashes saved under {args.out}")
    print(f"{'target':9s} {'executions':>11s} {'exec/s':>8s} {'features':>9s} {'crashes':>8s}")
    total_crashes = 0
    for name in args.target or TARGETS:
        proc = subprocess.run([sys.executable, __file__, "--child", name, "--seconds", str(seconds),
                               "--out", str(args.out)], env=env, capture_output=True, text=True, errors="replace",
                              timeout=seconds + 300)
        log = proc.stderr
        (args.out / f"log-{name}.txt").write_text(log)
        runs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", log)
        speed = re.findall(r"stat::average_exec_per_sec:\s*(\d+)", log)
        features = re.findall(r"\bft: (\d+)", log)
        crashed = proc.returncode != 0 or "Uncaught Python exception" in log
        total_crashes += int(crashed)
        print(f"{name:9s} {runs[-1] if runs else '?':>11s} {speed[-1] if speed else '?':>8s} "
              f"{features[-1] if features else '?':>9s} {int(crashed):>8d}")
        if crashed:
            tail = log[log.find("Uncaught Python exception"):][:1500] if "Uncaught" in log else log[-1500:]
            print(tail)
    print(f"crashes: {total_crashes}")
    sys.exit(1 if total_crashes else 0)


if __name__ == "__main__":
    main()
