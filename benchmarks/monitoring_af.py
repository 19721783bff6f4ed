"""AF / rhythm classification on CinC 2017: 5-fold cross-validated CinC F1 (mean of N, A, O F1).

Features (theralab.monitoring.ecg_features) are computed once and cached under
benchmarks/cache/monitoring/ (git-ignored), keyed by the data fingerprint. With ``--save`` the
model is refitted on all records and written, with its card, to
src/theralab/monitoring/weights/af_classifier/ (this is how the shipped model is retrained).

    python benchmarks/monitoring_af.py --data ../shared/data/monitoring/cinc2017
    python benchmarks/monitoring_af.py --save
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "monitoring" / "cinc2017"
CACHE = Path(__file__).resolve().parent / "cache" / "monitoring"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--save", action="store_true", help="refit on all data and write the shipped model + card")
    args = ap.parse_args()

    import pandas as pd

    from theralab.monitoring import ecg_rhythm as er

    t0 = time.perf_counter()
    df = er.feature_table(args.data, CACHE)
    t1 = time.perf_counter()
    n_feat = len([c for c in df.columns if c not in ("record", "label", "crop")])
    print(f"features: {df.shape[0]} records x {n_feat} features in {t1 - t0:.1f} s (cached after first run)")
    metrics, pred = er.cross_validate(df, args.folds)
    print(f"{args.folds}-fold CV in {time.perf_counter() - t1:.1f} s")
    print(pd.crosstab(df["label"], pd.Series(pred, name="predicted"), rownames=["true"]).to_string())
    print("\nper-class F1: " + "  ".join(f"{c} {metrics[c]:.3f}" for c in er.CLASSES))
    print(f"CinC F1 (mean of N, A, O): {metrics['cinc_f1']:.3f}  (fold SD {metrics['fold_sd']:.3f})")
    if args.save:
        card = er.train_and_save(args.data, cache=CACHE, folds=args.folds, metrics=metrics)
        print(f"saved model: sha256 {card['sha256'][:16]}..., card metrics {card['metrics']}")


if __name__ == "__main__":
    main()
