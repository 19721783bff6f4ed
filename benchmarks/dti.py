"""Drug-target affinity benchmark: setting-1 and cold-split CI / MSE beside published anchors.

Trains each model kind on Davis or KIBA (DeepDTA's setting-1 folds: training folds 1-4 train,
fold 0 early-stops, the test fold scores; cold splits: 70/10/20 partitions of drugs, targets or
both by seed) and prints CI and MSE on the test part beside the published numbers. A CPU run
uses reduced networks (``CPU_NETWORKS``) and a wall-clock budget (``--max-minutes``); say so
when you quote it. ``--full-size --device cuda`` runs the paper-sized networks on a GPU.

Example (the runs in docs/benchmarks/dti.md):
    nice -n 10 python benchmarks/dti.py davis --models graph --splits setting1 --batch-size 128 \
        --lr 1e-3 --max-minutes 14 --out dti.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", choices=["davis", "kiba"])
    parser.add_argument("--models", default="baseline,graph,cnn", help="comma list of baseline, graph, cnn")
    parser.add_argument("--splits", default="setting1,cold-drug,cold-target,cold-both")
    parser.add_argument("--seeds", default="0", help="comma list of seeds")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--max-minutes", type=float, default=None, help="wall-clock budget per deep model")
    parser.add_argument("--full-size", action="store_true", help="paper-sized networks (for a GPU)")
    parser.add_argument("--network", default="{}", help="JSON architecture overrides, e.g. '{\"dropout\": 0.1}'")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data-root", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data"
                                                   / "discovery"))
    parser.add_argument("--out", default=None, help="append result rows (JSON lines) to this file")
    parser.add_argument("--save-model", default=None, help="save the setting-1 model to this directory")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    from theralab.discovery.dti import load_benchmark
    from theralab.discovery.dti.benchmark import ANCHORS, run_benchmark

    data = load_benchmark(args.dataset, args.data_root)
    rows = []
    for kind in args.models.split(","):
        for split in args.splits.split(","):
            for seed in (int(s) for s in args.seeds.split(",")):
                print(f"== {args.dataset} {kind} {split} seed {seed}", flush=True)
                row = run_benchmark(args.dataset, args.data_root, kind, split, seed=seed, full_size=args.full_size,
                                    network=json.loads(args.network),
                                    save_model=args.save_model, data=data,
                                    progress=lambda f, m: print("   ", m, flush=True),
                                    epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                                    patience=args.patience, device=args.device, max_minutes=args.max_minutes)
                print(json.dumps(row), flush=True)
                rows.append(row)
                if args.out:
                    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
                    with open(args.out, "a") as fh:
                        fh.write(json.dumps(row) + "\n")
    print(f"\n{'model':<14}{'split':<13}{'CI':>7}{'MSE':>8}")
    for r in rows:
        print(f"{r['model']:<14}{r['split']:<13}{r['ci']:>7.3f}{r['mse']:>8.3f}   ours ({r['device']})")
    for name, (ci, m) in ANCHORS[args.dataset].items():
        print(f"{name:<14}{'setting1':<13}{ci:>7.3f}{m:>8.3f}   published")


if __name__ == "__main__":
    main()
