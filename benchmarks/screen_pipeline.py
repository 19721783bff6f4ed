"""Screening-pipeline throughput: molecules/second for standardise + rule filters + alerts + fused
similarity + one tree model, on N MOSES molecules, with a Dask LocalCluster of 1 and of 2 workers
(the speed-up from 1 to 2), each measured in the same run.

Besides wall-clock rates it reports CPU time per molecule (driver + every Dask worker, read with
``client.run(time.process_time)`` before and after each run), which is what to compare on a
machine shared with other jobs, and the load average. It also profiles the first --compare
molecules in this process with the reference profile (``theralab.chem.profile.profile_records``)
and with the pipeline's fast profile (``theralab.discovery.screening.profile.fast_profile``),
checks that both give identical frames, and prints CPU ms per molecule for each.

The issue asks for 1M molecules (``--n 1000000``); at the default 20,000 the rate is what scales
(the pipeline streams in chunks, memory stays flat).

Usage: python benchmarks/screen_pipeline.py [--n 20000] [--chunk 2000] [--compare 2000]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def compare_profiles(smiles: list[str]) -> tuple[float, float]:
    """CPU ms per molecule of the reference and the fast profile on the same records (asserting equality)."""
    import pandas as pd

    from theralab.chem.io import MolRecord, parse_smiles
    from theralab.chem.profile import profile_records
    from theralab.discovery.screening.profile import alert_screen, fast_profile

    records = [MolRecord(i + 1, str(i), s, *parse_smiles(s)) for i, s in enumerate(smiles)]
    alert_screen()
    profile_records(records[:5])
    c = time.process_time()
    ref = profile_records(records)
    ref_ms = (time.process_time() - c) / len(records) * 1e3
    c = time.process_time()
    got = fast_profile(records)
    fast_ms = (time.process_time() - c) / len(records) * 1e3
    pd.testing.assert_frame_equal(got[0], ref[0], check_exact=True)
    pd.testing.assert_frame_equal(got[1], ref[1], check_exact=True)
    return ref_ms, fast_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--chunk", type=int, default=2_000)
    parser.add_argument("--compare", type=int, default=2_000, help="molecules for the reference-vs-fast check")
    parser.add_argument("--workers", default="1,2", help="Dask worker counts to run, comma-separated")
    args = parser.parse_args()

    from _moses import test_queries, train_smi

    tmp = Path(tempfile.mkdtemp(prefix="tl-pipe-"))
    os.environ["THERALAB_DATA_DIR"] = str(tmp / "data")
    from distributed import Client, LocalCluster

    from theralab.models.fingerprint_gbm import train
    from theralab.runtime import jobs, migrate
    from theralab.runtime.executors import DaskExecutor

    migrate.upgrade()
    library = tmp / "library.smi"
    with open(train_smi()) as src, open(library, "w") as out:
        for line in itertools.islice(src, args.n):
            out.write(line)
    if args.compare:
        head = [line.split()[0] for line in itertools.islice(open(library), args.compare)]
        ref_ms, fast_ms = compare_profiles(head)
        print(f"profile of the first {len(head)} molecules, identical frames; CPU ms/molecule: "
              f"reference {ref_ms:.2f}, fast {fast_ms:.2f} ({ref_ms / fast_ms:.2f}x)")
    actives = test_queries(5)
    decoys = [line.split()[0] for line in itertools.islice(open(train_smi()), args.n, args.n + 50)]
    train(actives + decoys, [1] * 5 + [0] * 50, tmp / "model", name="bench-model", target="p_active")
    config = {
        "run": {"library": str(library), "output_dir": str(tmp / "out"), "chunk_size": args.chunk},
        "filters": {"rules": ["lipinski", "veber"], "max_alerts": 0},
        "similarity": {"actives": actives, "fusion": "max"},
        "models": [{"name": str(tmp / "model"), "column": "p_active"}],
        "objectives": [{"column": "similarity", "low": 0.1, "high": 0.6}, {"column": "p_active", "low": 0, "high": 1}],
        "diversity": {"method": "butina", "top_n": 100},
    }
    rates, hits = {}, {}
    for workers in (int(w) for w in args.workers.split(",")):
        config["run"]["output_dir"] = str(tmp / f"out-{workers}")
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            with Client(cluster) as client:
                client.run(lambda: None)
                job_id = jobs.create_job("screen.run", config)
                w0 = client.run(time.process_time)
                start, c0 = time.perf_counter(), time.process_time()
                job = jobs.run_job(job_id, DaskExecutor(client=client))
                elapsed, driver_cpu = time.perf_counter() - start, time.process_time() - c0
                w1 = client.run(time.process_time)
        assert job["status"] == "succeeded", job
        worker_cpu = sum(w1[a] - w0[a] for a in w1)
        rates[workers] = args.n / elapsed
        hits[workers] = Path(config["run"]["output_dir"])
        print(f"{workers} Dask worker(s): {args.n} molecules in {elapsed:.1f} s = {rates[workers]:.0f} molecules/s; "
              f"CPU {1e3 * (driver_cpu + worker_cpu) / args.n:.2f} ms/molecule "
              f"(workers {worker_cpu:.0f} s, driver {driver_cpu:.0f} s); load average {os.getloadavg()[0]:.1f}")
    if len(rates) == 2:
        (w_a, r_a), (w_b, r_b) = rates.items()
        print(f"speed-up {w_a} -> {w_b} workers: {r_b / r_a:.2f}x (load average now {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} cores)")
        same = all((hits[w_a] / f).read_bytes() == (hits[w_b] / f).read_bytes() for f in ("hits.csv", "funnel.json"))
        print(f"hits.csv and funnel.json identical for both runs: {same}")


if __name__ == "__main__":
    main()
