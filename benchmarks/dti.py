"""Drug-target affinity benchmark: setting-1 and cold-split CI / MSE beside published anchors.

Trains each model kind on Davis or KIBA (DeepDTA's setting-1 folds: training folds 1-4 train,
fold 0 early-stops, the test fold scores; cold splits: 70/10/20 partitions of drugs, targets or
both by seed) and prints CI and MSE on the test part beside the published numbers. A CPU run
uses a reduced schedule (``--max-minutes`` per model, smaller CNN); say so when you quote it.

Example (the run in docs/benchmarks/dti.md):
    nice -n 10 python benchmarks/dti.py davis --models graph --splits setting1 --max-minutes 12 \
        --out results/dti_graph.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

ANCHORS = {  # (CI, MSE) on the setting-1 test fold, from the papers
    "davis": {"DeepDTA": (0.878, 0.261), "GraphDTA-GIN": (0.893, 0.229), "DGraphDTA": (0.904, 0.202),
              "ECFP+FNN": (0.893, 0.244)},
    "kiba": {"DeepDTA": (0.863, 0.194), "GraphDTA-GIN": (0.882, 0.147), "DGraphDTA": (0.904, 0.126)},
}
CPU_NETWORKS = {  # reduced architectures for a shared CPU; the paper sizes are the package defaults
    "cnn": {"embed": 32, "filters": 16, "max_protein": 1000},
    "graph": {"protein": "kmer"},
    "baseline": {"n_estimators": 800, "learning_rate": 0.1, "colsample_bytree": 0.3},
}


def run_one(data, kind: str, split: str, seed: int, args: argparse.Namespace) -> dict:
    from theralab.discovery.dti import DTIModel, TrainConfig, regression_report, split_pairs

    root = Path(args.data_root) / f"dti_{args.dataset}"
    tr, va, te = split_pairs(data, split, seed=seed, valid=0.1, test=0.2, setting1_root=root)
    network = {} if args.full_size else CPU_NETWORKS[kind]
    cfg = TrainConfig(model=kind, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, patience=args.patience,
                      seed=seed, device=args.device, max_minutes=args.max_minutes, network=network)
    started = time.time()
    model, logs = DTIModel.fit(data, tr, va, cfg, progress=lambda f, m: print("   ", m, flush=True))
    pred = _predict(model, data, te)
    report = regression_report(data.y[te], pred)
    row = {"dataset": args.dataset, "model": kind, "split": split, "seed": seed, **report,
           "train_pairs": int(len(tr)), "valid_pairs": int(len(va)), "minutes": round((time.time() - started) / 60, 1),
           "epochs": [lg.get("epochs_run", lg.get("trees")) for lg in logs],
           "stopped": [lg.get("stopped", "") for lg in logs], "network": network, "device": args.device}
    if args.save_model and split == "setting1":
        model.save(args.save_model, name=f"dti-{kind}-{args.dataset}", metrics={f"setting1_test_{k}": v
                   for k, v in report.items()},
                   retrain=f"python benchmarks/dti.py {args.dataset} --models {kind} --splits setting1 "
                           f"--max-minutes {args.max_minutes} --save-model DIR")
    return row


def _predict(model, data, rows: np.ndarray) -> np.ndarray:
    """Ensemble mean over the test pairs, reusing the data's unique drug/target tables."""
    members = model._member_predictions(data.drugs, data.targets, data.drug_idx[rows], data.target_idx[rows])
    return members.mean(axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", choices=["davis", "kiba"])
    parser.add_argument("--models", default="baseline,graph,cnn", help="comma list of baseline, graph, cnn")
    parser.add_argument("--splits", default="setting1,cold-drug,cold-target,cold-both")
    parser.add_argument("--seeds", default="0", help="comma list; the mean is reported when several")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--max-minutes", type=float, default=None, help="wall-clock budget per deep model")
    parser.add_argument("--full-size", action="store_true", help="paper-sized networks (for a GPU)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data-root", default=str(Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
                                                   / "discovery"))
    parser.add_argument("--out", default=None, help="append result rows (JSON lines) to this file")
    parser.add_argument("--save-model", default=None, help="save the setting-1 model to this directory")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    from theralab.discovery.dti import load_benchmark

    data = load_benchmark(args.dataset, args.data_root)
    rows = []
    for kind in args.models.split(","):
        for split in args.splits.split(","):
            for seed in (int(s) for s in args.seeds.split(",")):
                print(f"== {args.dataset} {kind} {split} seed {seed}", flush=True)
                row = run_one(data, kind, split, seed, args)
                print(json.dumps(row), flush=True)
                rows.append(row)
                if args.out:
                    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
                    with open(args.out, "a") as fh:
                        fh.write(json.dumps(row) + "\n")
    print(f"\n{'model':<14}{'split':<13}{'CI':>7}{'MSE':>8}   (published, setting 1: CI / MSE)")
    for r in rows:
        print(f"{r['model']:<14}{r['split']:<13}{r['ci']:>7.3f}{r['mse']:>8.3f}")
    for name, (ci, m) in ANCHORS[args.dataset].items():
        print(f"{name:<14}{'setting1':<13}{ci:>7.3f}{m:>8.3f}   published")


if __name__ == "__main__":
    main()
