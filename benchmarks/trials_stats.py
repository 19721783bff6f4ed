"""Timing and agreement of theralab.trials beside statsmodels (same run, same process, 1 core).

Measures:

* K=5 Lan-DeMets (O'Brien-Fleming type) design: boundaries + inflation factor + expected N
  (statsmodels has no group-sequential designs; agreement is against rpact 3.3.4 values);
* 10,000 simulated adaptive trials (sample-size re-estimation; 3-arm drop-the-losers);
* t-test sample size: ``n_means`` vs statsmodels ``tt_ind_solve_power``; arcsine proportions vs
  ``NormalIndPower``;
* DerSimonian-Laird on the BCG trials: ``rma(method="DL")`` vs statsmodels ``combine_effects``;
* MGPS on FDA CAERS (openEBGM example): pair counts, squashing, ML prior, EBGM/EB05/EB95.

Usage::

    python benchmarks/trials_stats.py                  # reads ../shared/data/trials
    python benchmarks/trials_stats.py --repeats 20 --n-sim 10000
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "trials"


def timeit(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall time in seconds over ``repeats`` calls (after one warm-up) and the last result."""
    out = fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def row(name: str, ours: float, peer: float | None, note: str) -> None:
    peer_s = f"{peer * 1e3:10.3f}" if peer is not None else "         -"
    print(f"{name:<44} {ours * 1e3:10.3f} {peer_s}   {note}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=10, help="timed repeats per measurement (median reported)")
    ap.add_argument("--n-sim", type=int, default=10_000, help="simulated adaptive trials")
    ap.add_argument("--data", type=Path, default=DATA, help="folder with dat_bcg.csv, caers_openEBGM.csv, reference/")
    args = ap.parse_args()

    import numpy as np
    import pandas as pd
    from statsmodels.stats.meta_analysis import combine_effects
    from statsmodels.stats.power import NormalIndPower, tt_ind_solve_power
    from statsmodels.stats.proportion import proportion_effectsize

    from theralab.trials import design as d
    from theralab.trials.meta import model as m
    from theralab.trials.safety import screen as s

    ref = json.loads((args.data / "reference" / "reference_values.json").read_text())
    print(f"{'measurement':<44} {'ours ms':>10} {'peer ms':>10}   agreement")

    t, des = timeit(lambda: d.group_sequential(5, kind="ld-of"), args.repeats)
    rz = ref["group_sequential_two_sided_alpha0.05_equal_spacing_rpact"]["LD_OF_asOF"]["5"]
    err = max(abs(a - b) for a, b in zip(des.efficacy_z, rz, strict=True))
    row("K=5 Lan-DeMets OF design (bounds+IF+ASN)", t, None, f"max |z - rpact| = {err:.1e} (no statsmodels peer)")

    t, sim = timeit(lambda: d.simulate_ssr(0.3, n1=50, n2=50, n2_max=200, n_sim=args.n_sim, seed=1), args.repeats)
    row(
        f"{args.n_sim} SSR trials (simulate_ssr)", t, None, f"power {sim.rejection_rate:.4f}, E[N] {sim.expected_n:.1f}"
    )
    t, sim = timeit(
        lambda: d.simulate_arm_dropping([0.0, 0.2, 0.4], n1=50, n2=50, n_sim=args.n_sim, seed=1), args.repeats
    )
    row(
        f"{args.n_sim} drop-the-losers trials (3 arms)",
        t,
        None,
        f"power {sim.rejection_rate:.4f}, P(select best) {sim.extra['p_select_best']:.4f}",
    )

    t_ours, ours = timeit(lambda: d.n_means(0.5, power=0.8).n1, args.repeats)
    t_sm, sm = timeit(lambda: tt_ind_solve_power(effect_size=0.5, alpha=0.05, power=0.8), args.repeats)
    r_t = ref["power_sample_size"]["ttest_d0.5_a0.05_2s_pow0.8_n_per_arm"]["R_power.t.test"]
    row("t-test n per arm (d=0.5, power 0.8)", t_ours, t_sm, f"ours {ours:.8f}, statsmodels {sm:.8f}, R {r_t:.8f}")
    h = proportion_effectsize(0.75, 0.5)
    t_ours, ours = timeit(lambda: d.n_proportions(0.75, 0.5, power=0.9, method="arcsine").n1, args.repeats)
    t_sm, sm = timeit(lambda: NormalIndPower().solve_power(effect_size=h, alpha=0.05, power=0.9), args.repeats)
    row("arcsine proportions n per arm (.75 vs .5)", t_ours, t_sm, f"ours {ours:.6f}, statsmodels {sm:.6f}")

    bcg = pd.read_csv(args.data / "dat_bcg.csv")
    es = m.effects_2x2(bcg.tpos, bcg.tneg, bcg.cpos, bcg.cneg, measure="RR")
    t_ours, ours = timeit(lambda: m.rma(es.yi, es.vi, method="DL"), args.repeats)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_sm, sm = timeit(lambda: combine_effects(es.yi, es.vi, method_re="chi2"), args.repeats)
    smf = sm.summary_frame().loc["random effect"]
    row(
        "DerSimonian-Laird, BCG (13 trials)",
        t_ours,
        t_sm,
        f"est ours {ours.estimate:.6f} / sm {smf['eff']:.6f}; tau2 {ours.tau2:.6f} / {sm.tau2:.6f}",
    )
    t_ours, ours = timeit(lambda: m.rma(es.yi, es.vi, method="PM"), args.repeats)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_sm, sm = timeit(lambda: combine_effects(es.yi, es.vi, method_re="iterated"), args.repeats)
    row("Paule-Mandel, BCG", t_ours, t_sm, f"tau2 ours {ours.tau2:.8f} / sm {sm.tau2:.8f}")
    t_ours, _ = timeit(lambda: m.rma(es.yi, es.vi, method="REML"), args.repeats)
    row("REML + Q-profile CI + PI, BCG", t_ours, None, "statsmodels has no REML for meta-analysis")

    caers = pd.read_csv(args.data / "caers_openEBGM.csv")
    reps = max(1, args.repeats // 5)
    t_fit, (out, prior) = timeit(lambda: s.mgps(caers), reps)
    th = np.array(ref["mgps_openEBGM_caers"]["autoHyper_theta_hat"])
    row(
        "MGPS on CAERS (17,189 pairs, full pipeline)",
        t_fit,
        None,
        f"max |theta - openEBGM| = {np.abs(prior.theta - th).max():.1e}; EB05>2: {int((out.EB05 > 2).sum())}",
    )
    pairs = s.count_pairs(caers)
    ns, es_, ws = s.squash(pairs.a.to_numpy(float), pairs.E.to_numpy(float))
    t_prior, _ = timeit(lambda: s.fit_prior(ns, es_, ws), reps)
    row("  of which ML prior fit (1,568 squashed pts)", t_prior, None, "5 starts, BFGS + Nelder-Mead polish")


if __name__ == "__main__":
    main()
