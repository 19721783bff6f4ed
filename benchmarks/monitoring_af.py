"""AF / rhythm classification on CinC 2017: 5-fold cross-validated CinC F1 (mean of N, A, O F1).

Runs, on the same stratified folds (StratifiedKFold, shuffle, random_state 7), the previous
feature model alone (LightGBM on theralab.monitoring.ecg.features), the 1-D CNN alone
(theralab.monitoring.ecg.cnn) and the shipped ensemble (mean of the two probability vectors,
weight fixed in advance). In every fold both models are fitted on the training records only.

Features and 100 Hz signals are computed once and cached under benchmarks/cache/monitoring/
(git-ignored), keyed by the data fingerprint and the code. With ``--save`` both models are
refitted on all records and written, with their card, to
src/theralab/monitoring/weights/af_classifier/ (this is how the shipped model is retrained).
About 45 min single-threaded on a shared 2-core machine (5 CNN fits + the refit); ``--lgb-only``
takes a minute.

    python benchmarks/monitoring_af.py --data ../shared/data/monitoring/cinc2017
    python benchmarks/monitoring_af.py --save
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "monitoring" / "cinc2017"
CACHE = Path(__file__).resolve().parent / "cache" / "monitoring"


def _report(name: str, labels, pred, metrics: dict[str, float]) -> None:
    import pandas as pd

    from theralab.monitoring.ecg.rhythm import CLASSES

    print(f"\n== {name}")
    print(pd.crosstab(pd.Series(labels, name="true"), pd.Series(pred, name="predicted")).to_string())
    print("per-class F1: " + "  ".join(f"{c} {metrics[c]:.3f}" for c in CLASSES))
    print(f"CinC F1 (mean of N, A, O): {metrics['cinc_f1']:.3f}  (fold SD {metrics['fold_sd']:.3f})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7, help="fold split and model seeds")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: reproduces the shipped weights)")
    ap.add_argument("--lgb-only", action="store_true", help="feature model only (the v1 model), no CNN")
    ap.add_argument("--save", action="store_true", help="refit on all data and write the shipped model + card")
    ap.add_argument("--oof", type=Path, help="write out-of-fold probabilities (npz) here")
    args = ap.parse_args()

    import numpy as np

    from theralab.monitoring.ecg import rhythm as er

    t0 = time.perf_counter()
    df = er.feature_table(args.data, CACHE)
    t1 = time.perf_counter()
    n_feat = len([c for c in df.columns if c not in ("record", "label", "crop")])
    print(f"features: {df.shape[0]} records x {n_feat} features in {t1 - t0:.1f} s (cached after first run)")

    def log(msg: str) -> None:
        print(f"  [{time.perf_counter() - t0:6.0f} s] {msg}", flush=True)

    if args.lgb_only:
        metrics, pred = er.cross_validate(df, args.folds, args.seed)
        _report("LightGBM on features (v1)", df["label"], pred, metrics)
        cards = {"final": metrics}
    else:
        import torch

        from theralab.monitoring.ecg import cnn as ecg_cnn

        torch.set_num_threads(args.threads)
        signals = ecg_cnn.cinc_signals(args.data, CACHE)
        log(f"signals: {len(signals)} records at {ecg_cnn.FS:g} Hz")
        cv = er.cross_validate_ensemble(df, signals, args.folds, args.seed, progress=log)
        if args.oof:
            np.savez(args.oof, labels=cv.labels, lgb=cv.lgb, cnn=cv.cnn, folds=cv.folds)
        cards = {}
        for key, name in (
            ("lgb", "LightGBM on features (v1, previous model)"),
            ("cnn", "1-D CNN alone"),
            (
                "ensemble",
                f"ensemble (shipped): {er.ENSEMBLE_WEIGHT_LGB:g} x LightGBM + {1 - er.ENSEMBLE_WEIGHT_LGB:g} x CNN",
            ),
        ):
            m = cv.metrics(key)
            _report(name, cv.labels, np.asarray(er.CLASSES)[np.argmax(getattr(cv, key), axis=1)], m)
            cards[key] = m
        cards["final"] = cards.pop("ensemble")
    if args.save:
        card = er.train_and_save(
            args.data, cache=CACHE, folds=args.folds, metrics=cards, cnn=not args.lgb_only, seed=args.seed, progress=log
        )
        print(f"saved model: sha256 {card['sha256'][:16]}..., CinC F1 on the card {card['metrics']['cinc_f1']}")


if __name__ == "__main__":
    main()
