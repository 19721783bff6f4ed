"""Fingerprint search on the MOSES train set (1,584,663 molecules): theralab vs FPSim2 0.7.x.

Both engines index the same 2048-bit Morgan radius-2 fingerprints (checked bit for bit on a
sample) and answer the same 50 MOSES-test queries in the same run:

* median time per query, one thread: Tanimoto >= 0.7, and exact top-10
  (FPSim2 ``top_k(k=10, threshold=0.0)`` is its exact top-10);
* batch queries/s on 2 threads (ours: ``search_many(threads=2)``; FPSim2: ``n_workers=2``);
* index build molecules/s (ours: 2 worker processes; FPSim2 ``create_db_file``: one process).

Index files are cached under ``benchmarks/cache/`` with their build timings, so a rerun only
repeats the searches; pass ``--rebuild`` to time the builds again.

    .venv/bin/python benchmarks/screen_search.py [--queries 50] [--rebuild]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _moses import CACHE, test_queries, train_smi  # noqa: E402

OURS = CACHE / "moses_morgan2_2048.idx"
PEER = CACHE / "moses_fpsim2.h5"
PEER_TIMING = CACHE / "moses_fpsim2_build.json"


def build_peer(rebuild: bool) -> dict:
    from FPSim2.io import create_db_file

    if PEER.exists() and PEER_TIMING.exists() and not rebuild:
        return json.loads(PEER_TIMING.read_text())
    t0, c0 = time.perf_counter(), time.process_time()
    tmp = str(PEER) + ".tmp"
    create_db_file(str(train_smi()), tmp, "smiles", "Morgan", {"radius": 2, "fpSize": 2048})
    timing = {"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}
    os.replace(tmp, PEER)
    PEER_TIMING.write_text(json.dumps(timing))
    return timing


def build_ours(rebuild: bool, workers: int) -> dict:
    from theralab.chem.search import build_index

    return build_index(
        train_smi(),
        OURS,
        fp="morgan2",
        bits=2048,
        workers=workers,
        chunk_size=50_000,
        substructure=False,
        fresh=rebuild,
    )


def same_fingerprints(index, engine, sample: int = 2000) -> int:  # type: ignore[no-untyped-def]
    """Compare our rows with FPSim2's for ``sample`` random molecule ids; return mismatches."""
    from theralab.chem.fingerprints import unpack_bits

    peer = np.asarray(engine.fps)  # (n, 1 + words + 1): id, words..., popcount
    ids = peer[:, 0]
    ours_ord = np.asarray(index.ordinals)
    rng = np.random.default_rng(0)
    pick = rng.choice(len(ids), size=sample, replace=False)
    where = {int(o): i for i, o in enumerate(ours_ord)}
    bad = 0
    for j in pick:
        row = where[int(ids[j])]
        ours_bits = unpack_bits(index.rows(np.array([row])), 2048)[0]
        # FPSim2 parses each 64-character slice of RDKit's bit string as a big-endian integer
        peer_bits = np.unpackbits(peer[j, 1:-1].astype(">u8").view(np.uint8))
        bad += int(not np.array_equal(ours_bits, peer_bits))
    return bad


def timed(fn, queries):  # type: ignore[no-untyped-def]
    """Median wall and CPU milliseconds per query (CPU time is robust to other jobs on the box)."""
    wall, cpu, out = [], [], []
    for q in queries:
        t, c = time.perf_counter(), time.process_time()
        out.append(fn(q))
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - t)
    return statistics.median(wall) * 1e3, statistics.median(cpu) * 1e3, out


def build_sample(n: int) -> dict:
    """Time both builds on the first ``n`` molecules, one process each, in this run."""
    from FPSim2.io import create_db_file

    from theralab.chem.search import build_index

    src = CACHE / f"moses_train_{n}.smi"
    with train_smi().open() as fin, src.open("w") as fout:
        for _, line in zip(range(n), fin, strict=False):
            fout.write(line)
    res = {}
    tmp = CACHE / f"sample_{n}"
    for name, fn in (
        (
            "fpsim2",
            lambda: create_db_file(str(src), str(tmp) + ".h5", "smiles", "Morgan", {"radius": 2, "fpSize": 2048}),
        ),
        ("ours", lambda: build_index(src, tmp, workers=1, substructure=False, fresh=True)),
        ("ours_2proc", lambda: build_index(src, str(tmp) + "_2", workers=2, substructure=False, fresh=True)),
        (
            "ours_nodup",
            lambda: build_index(src, str(tmp) + "_nd", workers=1, substructure=False, duplicates=False, fresh=True),
        ),
    ):
        t, c = time.perf_counter(), time.process_time()
        fn()
        res[name] = (n / (time.perf_counter() - t), n / (time.process_time() - c))
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--rebuild", action="store_true", help="time both index builds again")
    ap.add_argument("--workers", type=int, default=2, help="worker processes for our build")
    ap.add_argument(
        "--build-sample",
        type=int,
        default=100_000,
        help="also time both builds on this many molecules in this run (0: skip)",
    )
    args = ap.parse_args()

    from FPSim2 import FPSim2Engine

    from theralab.chem.search import HAVE_NUMBA, FingerprintIndex

    n_mols = sum(1 for _ in train_smi().open())
    peer_t = build_peer(args.rebuild)
    man = build_ours(args.rebuild, args.workers)
    index = FingerprintIndex.open(OURS)
    engine = FPSim2Engine(str(PEER))
    queries = test_queries(args.queries)
    print(
        f"library: MOSES train, {n_mols:,} SMILES; ours indexed {man['count']:,} "
        f"({man['invalid']} invalid, {man['duplicates']} duplicates); numba={HAVE_NUMBA}"
    )
    print(f"same fingerprints on 2000 sampled ids: {2000 - same_fingerprints(index, engine)}/2000")
    print(f"load average before the searches: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    np.asarray(index.fps).sum()  # warm the page cache and JIT so neither side pays first-touch costs
    index.similarity(queries[0], 0.7)
    index.top_k(queries[0], 10)
    engine.similarity(queries[0], 0.7)

    rows = []
    ow, oc, ours_r = timed(lambda q: index.similarity(q, 0.7), queries)
    pw, pc, peer_r = timed(lambda q: engine.similarity(q, 0.7, n_workers=1), queries)
    agree = sum(len(a.hits) == len(b) for a, b in zip(ours_r, peer_r, strict=True))
    rows.append(("threshold 0.7, 1 thread, median ms/query (wall)", ow, pw, f"hit counts agree {agree}/{len(queries)}"))
    rows.append(("threshold 0.7, 1 thread, median ms/query (CPU)", oc, pc, ""))
    ow, oc, ours_kr = timed(lambda q: index.top_k(q, 10), queries)
    pw, pc, peer_kr = timed(lambda q: engine.top_k(q, 10, 0.0, n_workers=1), queries)
    agree = sum(
        np.allclose([h.similarity for h in a.hits], b["coeff"], atol=1e-6)
        for a, b in zip(ours_kr, peer_kr, strict=True)
    )
    rows.append(("top-10, 1 thread, median ms/query (wall)", ow, pw, f"top-10 scores agree {agree}/{len(queries)}"))
    rows.append(("top-10, 1 thread, median ms/query (CPU)", oc, pc, ""))

    for label, kw, peer_fn in (
        (
            "batch threshold 0.7, 2 threads, queries/s (wall)",
            {"threshold": 0.7},
            lambda q: engine.similarity(q, 0.7, n_workers=2),
        ),
        ("batch top-10, 2 threads, queries/s (wall)", {"k": 10}, lambda q: engine.top_k(q, 10, 0.0, n_workers=2)),
    ):
        t, c = time.perf_counter(), time.process_time()
        index.search_many(queries, threads=2, **kw)
        ours_qps = len(queries) / (time.perf_counter() - t)
        ours_cpu = (time.process_time() - c) / len(queries)
        t, c = time.perf_counter(), time.process_time()
        for q in queries:
            peer_fn(q)
        peer_qps = len(queries) / (time.perf_counter() - t)
        peer_cpu = (time.process_time() - c) / len(queries)
        rows.append((label.replace("(wall)", "(2 free cores: 2 / CPU s per query)"), 2 / ours_cpu, 2 / peer_cpu, ""))
        rows.append((label, ours_qps, peer_qps, f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"))

    rows.append(
        (
            f"full build, molecules/s wall (ours {man['workers']} processes, FPSim2 1)",
            man["rows_read"] / man["build_seconds"],
            n_mols / peer_t["wall_s"],
            f"ours {man['build_seconds']:.0f} s, FPSim2 {peer_t['wall_s']:.0f} s (cached; other runs differ)",
        )
    )
    if args.build_sample:
        b = build_sample(args.build_sample)
        rows.append((f"build {args.build_sample:,}, 1 process, molecules/s (wall)", b["ours"][0], b["fpsim2"][0], ""))
        rows.append(
            (
                f"build {args.build_sample:,}, 1 process, molecules/s (CPU)",
                b["ours"][1],
                b["fpsim2"][1],
                "ours also canonicalises SMILES for the duplicate report",
            )
        )
        rows.append(
            (
                f"build {args.build_sample:,}, ours 2 processes vs FPSim2 1, mol/s (wall)",
                b["ours_2proc"][0],
                b["fpsim2"][0],
                "",
            )
        )
        rows.append(
            (
                f"build {args.build_sample:,}, 1 process, no duplicate check, mol/s (CPU)",
                b["ours_nodup"][1],
                b["fpsim2"][1],
                "same work as FPSim2: parse, fingerprint, record invalid rows",
            )
        )
    print(f"\n{'measure':62s} {'theralab':>10s} {'FPSim2':>10s}  note")
    for label, a, b_, note in rows:
        print(f"{label:62s} {a:10.2f} {b_:10.2f}  {note}")


if __name__ == "__main__":
    main()
