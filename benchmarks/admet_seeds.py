"""Multi-seed summary of ``benchmarks/admet_accuracy.py``: mean, SD and paired tests per data set.

A single split of ESOL has 113 test molecules, so one seed's RMSE moves by more than the gaps the
single-seed tables report. Run the accuracy benchmark once per seed with ``--out``, then summarise:

    for s in 0 1 2 3 4; do
      python benchmarks/admet_accuracy.py --sets ESOL --seed $s --out /tmp/esol/seed$s.json
    done
    python benchmarks/admet_seeds.py /tmp/esol/seed*.json

For every arm: mean and sample SD over seeds. For each pair against Chemprop: the mean paired
difference, a paired t-test and (with at least 6 seeds) Wilcoxon's signed-rank test, both
two-sided. Whether Chemprop's arm reproduces its published figure is judged by mean +- 2 SD.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

ARMS = ("ours-lgbm", "ours-ens", "chemprop", "rf-ecfp")


def summarise(runs: list[dict]) -> dict[str, dict]:
    """``{set: {arm: (mean, sd, n), "vs chemprop": {arm: (diff, diff_sd, t_p, w_p, better)}, ...}}``.

    ``better`` counts the seeds on which the arm beats the reference (lower RMSE, higher AUROC). The
    reference is Chemprop's arm; runs without it (``--no-chemprop``) are tested against the RF
    (``"vs rf-ecfp"``).
    """
    from scipy import stats

    out: dict[str, dict] = {}
    for name in sorted({k for r in runs for k in r}):
        rows = [r[name] for r in runs if name in r]
        entry: dict = {"task": rows[0]["task"], "seeds": len(rows), "n_test": rows[0]["n_test"],
                       "published_chemprop": rows[0].get("published_chemprop")}
        for arm in ARMS:
            vals = np.array([r[arm] for r in rows if arm in r], dtype=float)
            if len(vals):
                entry[arm] = (float(vals.mean()), float(vals.std(ddof=1)) if len(vals) > 1 else float("nan"),
                              len(vals))
        for ref in ("chemprop", "rf-ecfp"):  # paired tests against Chemprop, and against the RF when
            if not (all(ref in r for r in rows) and len(rows) > 1):  # Chemprop was not run
                continue
            base = np.array([r[ref] for r in rows])
            tests = {}
            for arm in (a for a in ARMS if a != ref and all(a in r for r in rows)):
                vals = np.array([r[arm] for r in rows])
                diff = vals - base
                t_p = float(stats.ttest_rel(vals, base).pvalue)
                w_p = float(stats.wilcoxon(vals, base).pvalue) if len(rows) >= 6 else float("nan")
                better = int((diff < 0).sum() if entry["task"] == "regression" else (diff > 0).sum())
                tests[arm] = (float(diff.mean()), float(diff.std(ddof=1)), t_p, w_p, better)
            entry[f"vs {ref}"] = tests
            break
        out[name] = entry
    return out


def reproduces(mean: float, sd: float, published: float, task: str) -> str:
    """Whether an arm reproduces its published figure: within 2 SD of it, better than it, or worse.

    A win against the arm counts only when it is not worse (an arm that beats its published figure
    is at least as strong a peer as the one published).
    """
    if abs(mean - published) <= 2 * sd:
        return "reproduced (within 2 SD)"
    better = mean < published if task == "regression" else mean > published
    return "better than published (beyond 2 SD)" if better else "NOT reproduced (worse, beyond 2 SD)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path, help="JSON files written by admet_accuracy.py --out")
    args = parser.parse_args(argv)
    runs = [json.loads(p.read_text()) for p in args.files]
    for name, e in summarise(runs).items():
        metric = "RMSE (lower is better)" if e["task"] == "regression" else "AUROC (higher is better)"
        print(f"\n{name}: {metric}, {e['seeds']} seeds, {e['n_test']} test molecules per split")
        print("| arm | mean | SD |\n|---|---:|---:|")
        for arm in ARMS:
            if arm in e:
                print(f"| {arm} | {e[arm][0]:.3f} | {e[arm][1]:.3f} |")
        pub = e.get("published_chemprop")
        if pub is not None and "chemprop" in e:
            mean, sd, _ = e["chemprop"]
            print(f"Chemprop arm {mean:.3f} +- {sd:.3f} vs published {pub:.3f}: "
                  f"{reproduces(mean, sd, pub, e['task'])}")
        ref = "chemprop" if "vs chemprop" in e else "rf-ecfp"
        for arm, (diff, sd, t_p, w_p, better) in e.get(f"vs {ref}", {}).items():
            print(f"{arm} - {ref}: {diff:+.3f} +- {sd:.3f} (paired t p = {t_p:.3g}"
                  + (f", Wilcoxon p = {w_p:.3g}" if np.isfinite(w_p) else "")
                  + f"); better on {better} of {e['seeds']} seeds")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
