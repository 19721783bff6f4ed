"""5-fold C-index of theralab's survival models beside CoxPH (lifelines) and RSF (scikit-survival).

Data sets ship with the PyPI packages (scikit-survival: gbsg2, whas500, flchain, aids, veterans,
breast_cancer; lifelines: rossi). Every model sees the same folds (stratified by event, seed 0);
the peers are fitted in the same run with their library defaults (CoxPH penalizer 0.01, RSF 200
trees, min_samples_leaf 10, max_features sqrt). flchain's 'chapter' (cause of death, known only for
the dead) is dropped because it leaks the outcome.

    python benchmarks/precision_survival.py                 # all data sets
    python benchmarks/precision_survival.py --data gbsg2 rossi --folds 5
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd


def load(name: str) -> tuple[pd.DataFrame, str, str]:
    """A table with columns _time, _event and the features."""
    if name == "rossi":
        from lifelines.datasets import load_rossi

        frame = load_rossi().rename(columns={"week": "_time", "arrest": "_event"})
        return frame, "_time", "_event"
    from sksurv import datasets

    loader = {"gbsg2": "load_gbsg2", "whas500": "load_whas500", "flchain": "load_flchain", "aids": "load_aids",
              "veterans": "load_veterans_lung_cancer", "breast_cancer": "load_breast_cancer"}[name]
    x, y = getattr(datasets, loader)()
    ev, tm = y.dtype.names
    frame = x.copy()
    for col in frame.columns:
        if str(frame[col].dtype) == "category":
            frame[col] = frame[col].astype(str)
    if name == "flchain":
        frame = frame.drop(columns=["chapter"])
    frame["_time"], frame["_event"] = y[tm].astype(float), y[ev].astype(int)
    return frame, "_time", "_event"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", nargs="+", default=["gbsg2", "whas500", "flchain", "aids", "veterans",
                                                       "breast_cancer", "rossi"])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--models", nargs="+", default=["cox", "rsf", "neural_cox", "ensemble"])
    parser.add_argument("--rsf-trees", type=int, default=200, help="trees of the RSF peer (fewer on a busy CPU)")
    args = parser.parse_args()
    import torch
    from sklearn.model_selection import StratifiedKFold

    from theralab.precision.risk.survival import concordance_index, fit_survival

    torch.set_num_threads(1)
    rows = []
    for name in args.data:
        frame, dur, evt = load(name)
        folds = StratifiedKFold(args.folds, shuffle=True, random_state=0).split(frame, frame[evt])
        scores: dict[str, list[float]] = {m: [] for m in args.models}
        start = time.time()
        for train_idx, test_idx in folds:
            train, test = frame.iloc[train_idx], frame.iloc[test_idx]
            risks = {}
            for kind in ("cox", "rsf", "neural_cox"):
                if kind in args.models or "ensemble" in args.models:
                    # RSF's low_memory mode fits the same forest but keeps only the risk score (flchain's
                    # 6,300 training rows otherwise hold a survival curve per leaf: GBs of memory)
                    opts = {"low_memory": len(train) > 3000, "n_estimators": args.rsf_trees} if kind == "rsf" else {}
                    model = fit_survival(train, dur, evt, kind=kind, **opts)
                    risks[kind] = model.risk(test)
            ranks = [pd.Series(r).rank(pct=True).to_numpy() for r in risks.values()]
            risks["ensemble"] = np.mean(ranks, axis=0)
            for m in args.models:
                scores[m].append(concordance_index(test[dur], test[evt].astype(bool), risks[m]))
        row = {"data": name, "n": len(frame), "events": int(frame[evt].sum())}
        row.update({m: float(np.mean(v)) for m, v in scores.items()})
        row.update({f"{m}_sd": float(np.std(v)) for m, v in scores.items()})
        row["seconds"] = round(time.time() - start, 1)
        rows.append(row)
        print(f"{name:14s} n={row['n']:5d} " + "  ".join(f"{m}={row[m]:.3f}±{row[m + '_sd']:.3f}"
                                                          for m in args.models), f"({row['seconds']}s)", flush=True)
    table = pd.DataFrame(rows)
    print("\nmean 5-fold C-index (cox = lifelines CoxPH peer, rsf = scikit-survival RSF peer; neural_cox and "
          "ensemble (mean rank of the three) are theralab's):")
    print(table[["data", "n", "events", *args.models]].to_string(index=False, float_format="%.3f"))


if __name__ == "__main__":
    main()
