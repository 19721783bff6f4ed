"""GDSC ln(IC50): the additive drug + cell baseline vs theralab's NeighbourGBM on three splits.

Same test pairs for both models, 20% held out (pairs, cell lines or drugs), seeds 0-2; 238 drugs
with a structure x 561 cell lines with methylation (107,446 measured pairs). The features and the
one tuned setting (60 omics neighbours per cell line, chosen among 15/30/60 on seed 0 of the cell
split) were set on seed 0; seeds 1-2 are the check.

    python benchmarks/precision_response.py --seeds 0 1 2
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "precision" / "drug_response"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--splits", nargs="+", default=["random", "cell", "drug"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--rounds", type=int, default=400)
    args = parser.parse_args()
    from theralab.precision.response import evaluate_split, load_gdsc, side_similarities

    data = load_gdsc(args.data)
    sims = side_similarities(data)
    print(f"{len(data.drugs)} drugs x {len(data.cells)} cell lines, {data.n_pairs} measured pairs")
    print(f"{'split':8s} {'seed':>4s} {'test':>6s}  baseline r  model r   gain   model RMSE (baseline)")
    summary = {}
    for split in args.splits:
        rows = []
        for seed in args.seeds:
            r = evaluate_split(data, split, seed=seed, sims=sims, rounds=args.rounds)
            rows.append(r)
            gain = r["model_pearson"] - r["baseline_pearson"]
            print(f"{split:8s} {seed:4d} {r['test_pairs']:6d}  {r['baseline_pearson']:.3f}      "
                  f"{r['model_pearson']:.3f}   {gain:+.3f}  {r['model_rmse']:.3f} ({r['baseline_rmse']:.3f})",
                  flush=True)
        summary[split] = (np.mean([r["baseline_pearson"] for r in rows]), np.mean([r["model_pearson"] for r in rows]))
    print("\nmean Pearson over seeds (issue's measured additive baseline: random 0.881, cell 0.842, drug 0.267; "
          "DeepCDR reports 0.923 on random pairs)")
    for split, (b, m) in summary.items():
        print(f"  {split:8s} baseline {b:.3f}  NeighbourGBM {m:.3f}  ({m - b:+.3f})")


if __name__ == "__main__":
    main()
