"""Goal-directed benchmark: PMO-style AUC-top-10 of our Graph GA (and RL) on GuacaMol objectives,
beside the published PMO figures (Gao et al. 2022, ../shared/data/generative/reference_pmo_auc_top10.csv).

PMO protocol: budget in oracle calls (unique molecules), AUC of the running top-10 mean logged every
100 calls, held flat to the budget after an early stop. PMO uses 10,000 calls and ZINC-250k starting
molecules; this script draws the GA's starting population from MOSES train (molsets wheel) and its
default budget is smaller because the machine is shared: AUC at a smaller budget is not the same
number (early calls weigh more), so read the comparison as indicative.

    python benchmarks/generate_goal.py --budget 1000 --seeds 0 1 2 --methods ga
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WHEEL = HERE / "cache" / "molsets-0.3.1-py3-none-any.whl"
REFERENCE = HERE.parent.parent / "shared" / "data" / "generative" / "reference_pmo_auc_top10.csv"
PMO_NAMES = {"celecoxib_rediscovery": "celecoxib rediscovery", "qed": "qed", "median1": "median1",
             "osimertinib_mpo": "osimertinib mpo"}


def reference(path: Path) -> dict[str, dict[str, float]]:
    """Published PMO AUC-top-10 per oracle and method."""
    if not path.exists():
        return {}
    with path.open() as fh:
        return {row["Oracle"]: {k: float(v) for k, v in row.items() if k != "Oracle"} for row in csv.DictReader(fh)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", nargs="+", default=["celecoxib_rediscovery", "qed"])
    ap.add_argument("--methods", nargs="+", default=["ga"], choices=["ga", "rl"])
    ap.add_argument("--budget", type=int, default=1000, help="oracle calls per run (PMO: 10000)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--wheel", default=str(WHEEL))
    ap.add_argument("--reference", default=str(REFERENCE))
    ap.add_argument("--prior", default=None, help="prior for RL (default: the shipped prior)")
    ap.add_argument("--json", default=None, help="also write the results as JSON here")
    args = ap.parse_args(argv)

    import numpy as np
    import torch

    from theralab.discovery.generate import Oracle, get_objective, load_prior, run_ga, run_rl
    from theralab.discovery.generate.prior import moses_smiles
    from theralab.discovery.generate.schemas import GAConfig, RLConfig

    torch.set_num_threads(1)
    pool = list(itertools.islice(moses_smiles(args.wheel), 100_000))
    ref = reference(Path(args.reference))
    results = []
    for task, method in itertools.product(args.tasks, args.methods):
        aucs, tops = [], []
        for seed in args.seeds:
            oracle = Oracle(get_objective(task), budget=args.budget)
            t0 = time.time()
            if method == "ga":
                cfg = GAConfig()  # PMO defaults: population 120, offspring 70, mutation 0.067
                start = random.Random(seed).sample(pool, cfg.population_size)
                res = run_ga(oracle, start, cfg, seed=seed)
            else:
                res = run_rl(oracle, load_prior(args.prior), RLConfig(), seed=seed)
            aucs.append(oracle.auc_top(10))
            tops.append(oracle.top_mean(10))
            print(f"{task:24s} {method} seed {seed}: AUC-top-10 {aucs[-1]:.3f} top-10 {tops[-1]:.3f} "
                  f"calls {oracle.calls} ({res.stopped}) {time.time() - t0:.0f}s", flush=True)
        published = ref.get(PMO_NAMES.get(task, task), {})
        peer = published.get("Graph GA" if method == "ga" else "REINVENT")
        results.append({"task": task, "method": method, "budget": args.budget, "seeds": args.seeds,
                        "auc_top10_mean": float(np.mean(aucs)), "auc_top10_sd": float(np.std(aucs)),
                        "top10_mean": float(np.mean(tops)), "published_pmo_10k": peer})
    print(f"\n{'task':24s} method  ours AUC-top-10 @{args.budget}  published PMO @10000")
    for r in results:
        peer = "n/a" if r["published_pmo_10k"] is None else f"{r['published_pmo_10k']:.3f}"
        print(f"{r['task']:24s} {r['method']:6s}  {r['auc_top10_mean']:.3f} +/- {r['auc_top10_sd']:.3f}"
              f"           {peer}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
