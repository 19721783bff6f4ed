"""Accuracy of theralab's own ADMET models vs Chemprop defaults vs a random forest, same run.

For each data set every model sees the same split (same seed) and is scored on the same test rows:

* ``ours-lgbm``: LightGBM on MapLight features (ECFP4 counts + Avalon counts + ErG + RDKit 2D);
* ``chemprop``: Chemprop v2 D-MPNN (bond messages, depth 3, hidden 300, mean aggregation, Noam
  schedule) for ``--epochs`` epochs. ``--chemprop-protocol cli`` (default) follows Chemprop's command
  line: batch 64, the epoch with the lowest loss on the validation part (the calibration rows) is kept;
  ``last`` is the first-session arm (batch 50, last epoch). ``--chemprop-descriptors
  rdkit2d_normalized`` adds Chemprop's RDKit 2D features, as its published MoleculeNet figures do;
  ``--chemprop-ensemble K`` averages K such models;
* ``ours-ens``: the mean of the two above (what ``--model ensemble`` trains when the arm is the
  first-session one: ``--chemprop-protocol last`` and no descriptors);
* ``rf-ecfp``: scikit-learn random forest (500 trees) on 2,048-bit ECFP4.

MoleculeNet: ESOL, FreeSolv, Lipophilicity (random 80/10/10), BBBP (scaffold), Tox21 and ClinTox
(random; AUROC averaged over tasks). PharmaBench: the given scaffold train/test labels.
Regression is scored by RMSE (lower is better), classification by AUROC.

    .venv/bin/python benchmarks/admet_accuracy.py --suite moleculenet --epochs 50
    .venv/bin/python benchmarks/admet_accuracy.py --suite pharmabench --no-chemprop
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "discovery"
MOLECULENET = {
    # name: (file, targets, split, published Chemprop figure)
    "ESOL": ("delaney.csv", ["logp"], "random", 0.555),
    "FreeSolv": ("freesolv.csv", ["freesolv"], "random", 1.075),
    "Lipo": ("lipo.csv", ["lipo"], "random", 0.555),
    "BBBP": ("bbbp.csv", ["p_np"], "scaffold", 0.737),
    "Tox21": ("tox21.csv", None, "random", 0.851),
    "ClinTox": ("clintox.csv", ["FDA_APPROVED", "CT_TOX"], "random", 0.864),
}


def _score(task: str, y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    vals = []
    for j in range(y.shape[1]):
        known = np.isfinite(y[:, j])
        yt, pt = y[known, j], p[known, j]
        if task == "regression":
            vals.append(float(np.sqrt(np.mean((yt - pt) ** 2))))
        elif len(np.unique(yt)) == 2:
            vals.append(float(roc_auc_score(yt, pt)))
    return float(np.mean(vals))


def _rf(X_tr: np.ndarray, y_tr: np.ndarray, X_te: np.ndarray, task: str, seed: int) -> np.ndarray:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    out = np.full((len(X_te), y_tr.shape[1]), np.nan)
    for j in range(y_tr.shape[1]):
        known = np.isfinite(y_tr[:, j])
        if task == "regression":
            est = RandomForestRegressor(n_estimators=500, n_jobs=1, random_state=seed).fit(X_tr[known], y_tr[known, j])
            out[:, j] = est.predict(X_te)
        else:
            est = RandomForestClassifier(n_estimators=500, n_jobs=1, random_state=seed).fit(X_tr[known], y_tr[known, j])
            out[:, j] = est.predict_proba(X_te)[:, 1]
    return out


def _chemprop_arm(mols: list, y: np.ndarray, sp: Any, task: str, args: argparse.Namespace,
                  res: dict) -> np.ndarray:
    """The Chemprop arm: ``--chemprop-ensemble`` D-MPNNs, their mean prediction on the test rows.

    ``--chemprop-protocol cli`` follows Chemprop's command line: train on the train part, keep the
    epoch with the lowest loss on the validation part (our calibration rows: 10 % of all, so 80/10/10),
    batch 64 (v2's default). ``last`` trains on the train part and keeps the last epoch (batch 50).
    """
    from theralab.discovery.admet import dmpnn as admet_chemprop

    cli = args.chemprop_protocol == "cli"
    val = dict(val_mols=[mols[i] for i in sp.calibration], val_y=y[sp.calibration]) if cli else {}
    preds, best = [], []
    for k in range(args.chemprop_ensemble):
        cp, cfg = admet_chemprop.train([mols[i] for i in sp.train], y[sp.train], task, epochs=args.epochs,
                                       seed=args.seed * 1000 + k, batch_size=64 if cli else 50,
                                       descriptors=args.chemprop_descriptors, **val)
        preds.append(admet_chemprop.predict(cp, [mols[i] for i in sp.test]))
        best.append(cfg.get("best_epoch"))
    res["chemprop_config"] = {"protocol": args.chemprop_protocol, "epochs": args.epochs,
                              "ensemble": args.chemprop_ensemble, "descriptors": args.chemprop_descriptors,
                              "best_epochs": best}
    return np.mean(preds, axis=0)


def run_set(name: str, frame: pd.DataFrame, targets: list[str], split: str, args: argparse.Namespace,
            labels: np.ndarray | None = None) -> dict[str, float]:
    """Train every model on one split of one data set; return test scores."""
    from theralab.chem.fingerprints import Fingerprinter, fingerprint_spec, unpack_bits
    from theralab.discovery.admet.features import make_split, maplight_features
    from theralab.discovery.admet.train import prepare
    from theralab.discovery.admet.user_models import TrainConfig, fit

    t0 = time.perf_counter()
    prepared, task = prepare(frame, targets)
    mols, y = prepared.mols, prepared.y
    if labels is not None:
        sp = make_split(mols, "column", args.seed, labels=labels[prepared.rows], test_fraction=0.2)
    else:
        sp = make_split(mols, split, args.seed, test_fraction=0.1, calibration_fraction=0.1)
    X = maplight_features(mols)
    res: dict[str, float] = {"n": len(mols), "n_test": len(sp.test), "task": task}
    cfg = TrainConfig(targets=targets, task=task, kind="lgbm", members=args.members, seed=args.seed)
    model = fit(mols, y, cfg, sp, X)
    test_mols = [mols[i] for i in sp.test]
    lg = np.column_stack([model.member_predictions(test_mols, X[sp.test])[t + "__point"] for t in targets])
    res["ours-lgbm"] = _score(task, y[sp.test], lg)
    fp = Fingerprinter(fingerprint_spec("morgan2", 2048))
    bits = unpack_bits(fp.pack_many(mols), 2048).astype(np.float32)
    tr = sp.train  # every model trains on the same rows; the calibration part only calibrates ours
    res["rf-ecfp"] = _score(task, y[sp.test], _rf(bits[tr], y[tr], bits[sp.test], task, args.seed))
    if not args.no_chemprop and len(mols) <= args.chemprop_max_rows:
        cpp = _chemprop_arm(mols, y, sp, task, args, res)
        res["chemprop"] = _score(task, y[sp.test], cpp)
        res["ours-ens"] = _score(task, y[sp.test], (cpp + lg) / 2)
    res["seconds"] = round(time.perf_counter() - t0, 1)
    print(f"{name}: {json.dumps(res)}", flush=True)
    return res


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", choices=["moleculenet", "pharmabench"], default="moleculenet")
    parser.add_argument("--sets", nargs="*", help="only these data sets (names as printed)")
    parser.add_argument("--epochs", type=int, default=50, help="Chemprop epochs (its default is 50)")
    parser.add_argument("--members", type=int, default=1, help="LightGBM bag size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-chemprop", action="store_true", help="skip Chemprop and the ensemble")
    parser.add_argument("--chemprop-protocol", choices=["cli", "last"], default="cli",
                        help="cli: best epoch on the validation part (Chemprop's CLI); last: last epoch")
    parser.add_argument("--chemprop-descriptors", choices=["rdkit2d_normalized"], default=None,
                        help="extra RDKit 2D descriptors beside the D-MPNN vector (as in Chemprop's paper)")
    parser.add_argument("--chemprop-ensemble", type=int, default=1, help="D-MPNNs averaged in the Chemprop arm")
    parser.add_argument("--chemprop-max-rows", type=int, default=10**9, help="skip Chemprop on larger sets")
    parser.add_argument("--out", type=Path, help="write the results as JSON")
    args = parser.parse_args(argv)

    results: dict[str, dict] = {}
    if args.suite == "moleculenet":
        for name, (file, targets, split, published) in MOLECULENET.items():
            if args.sets and name not in args.sets:
                continue
            frame = pd.read_csv(SHARED / "moleculenet" / file)
            targets = targets or [c for c in frame.columns if c != "smiles"]
            results[name] = run_set(name, frame, targets, split, args)
            results[name]["published_chemprop"] = published
    else:
        for path in sorted((SHARED / "pharmabench").glob("*.csv")):
            name = path.stem.replace("_final_data", "")
            if args.sets and name not in args.sets:
                continue
            frame = pd.read_csv(path)
            results[name] = run_set(name, frame, ["value"], "column", args,
                                    labels=frame["scaffold_train_test_label"].to_numpy())
    _print_table(results)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))
    return 0


def _print_table(results: dict[str, dict]) -> None:
    cols = ["ours-lgbm", "ours-ens", "chemprop", "rf-ecfp", "published_chemprop"]
    print("\n| set | metric | n (test) | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 3) + "|")
    for name, r in results.items():
        metric = "RMSE" if r["task"] == "regression" else "AUROC"
        cells = [f"{r[c]:.3f}" if isinstance(r.get(c), float) else "-" for c in cols]
        print(f"| {name} | {metric} | {r['n']} ({r['n_test']}) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
