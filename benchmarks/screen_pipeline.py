"""Screening-pipeline throughput: molecules/second for standardise + rule filters + alerts + fused
similarity + one tree model, on N MOSES molecules, with a Dask LocalCluster of 1 and of 2 workers
(the speed-up from 1 to 2), each measured in the same run.

The issue asks for 1M molecules; at a few hundred molecules/s per core that is about an hour on
this 2-core machine, so --n defaults to 20,000 and the rate is what scales (the pipeline streams in
chunks, memory stays flat). Run with --n 1000000 to reproduce the full figure.

Usage: python benchmarks/screen_pipeline.py [--n 20000] [--chunk 2000]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--chunk", type=int, default=2_000)
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
    rates = {}
    for workers in (1, 2):
        config["run"]["output_dir"] = str(tmp / f"out-{workers}")
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            with Client(cluster) as client:
                job_id = jobs.create_job("screen.run", config)
                start = time.perf_counter()
                job = jobs.run_job(job_id, DaskExecutor(client=client))
                elapsed = time.perf_counter() - start
        assert job["status"] == "succeeded", job
        rates[workers] = args.n / elapsed
        print(f"{workers} Dask worker(s): {args.n} molecules in {elapsed:.1f} s = {rates[workers]:.0f} molecules/s")
    print(f"speed-up 1 -> 2 workers: {rates[2] / rates[1]:.2f}x (load average now {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
