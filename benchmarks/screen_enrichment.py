"""Ligand-based enrichment on the DUD-E targets in ../shared/data/discovery/dude/.

For each target (actives_final.ism vs decoys_final.ism) and a fingerprint (default 2048-bit
Morgan r2, the engine's default), we rank the library by Tanimoto similarity and report:

* (a) one active as the query: every active in turn queries the other actives plus all decoys;
  EF1% and AUROC averaged over the queries;
* (b) fused similarity to 5 actives (max fusion and mean fusion): 5 actives drawn at random
  (``--repeats`` draws, seeded), ranking the remaining actives plus all decoys; averaged over draws.

EF1% = (actives in the top 1% / size of the top 1%) / (actives / library size), top 1% =
ceil(0.01 N); ties in score are broken at random (seeded) so equal scores earn no credit from
file order. AUROC from scikit-learn (ties count one half).

DUD-E decoys are property-matched but chosen to be topologically *dissimilar* to the actives, so
2D fingerprint similarity is flattered on them; treat these numbers as an upper bound, not as
prospective performance.

    .venv/bin/python benchmarks/screen_enrichment.py [--fp morgan2] [--bits 2048] [--repeats 10]
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DUDE = Path(os.environ.get("THERALAB_SHARED_DATA", ROOT.parent / "shared" / "data")) / "discovery" / "dude"


def read_ism(path: Path) -> list[str]:
    return [line.split()[0] for line in path.read_text().splitlines() if line.strip()]


def packed(smiles: list[str], fp: str, bits: int) -> np.ndarray:
    from rdkit import Chem, RDLogger

    from theralab.chem.fingerprints import Fingerprinter, fingerprint_spec

    RDLogger.DisableLog("rdApp.*")
    f = Fingerprinter(fingerprint_spec(fp, bits))
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    return f.pack_many([m for m in mols if m is not None])


def ef_auc(scores: np.ndarray, labels: np.ndarray, rng: np.random.Generator, frac: float = 0.01) -> tuple[float, float]:
    from sklearn.metrics import roc_auc_score

    jitter = rng.permutation(len(scores))
    order = np.lexsort((jitter, -scores))
    n_top = math.ceil(frac * len(scores))
    hits = labels[order[:n_top]].sum()
    ef = (hits / n_top) / (labels.sum() / len(labels))
    return float(ef), float(roc_auc_score(labels, scores))


def evaluate(actives: np.ndarray, decoys: np.ndarray, repeats: int, seed: int) -> dict[str, tuple[float, float]]:
    from theralab.chem.fingerprints import tanimoto

    rng = np.random.default_rng(seed)
    lib = np.concatenate([actives, decoys])
    labels = np.r_[np.ones(len(actives), bool), np.zeros(len(decoys), bool)]
    sims = np.stack([tanimoto(a, lib) for a in actives])  # (n_actives, N)
    out: dict[str, list[tuple[float, float]]] = {"single": [], "max5": [], "mean5": []}
    for i in range(len(actives)):
        keep = np.arange(len(lib)) != i
        out["single"].append(ef_auc(sims[i, keep], labels[keep], rng))
    for _ in range(repeats):
        ref = rng.choice(len(actives), size=5, replace=False)
        keep = np.ones(len(lib), bool)
        keep[ref] = False
        block = sims[ref][:, keep]
        out["max5"].append(ef_auc(block.max(axis=0), labels[keep], rng))
        out["mean5"].append(ef_auc(block.mean(axis=0), labels[keep], rng))
    return {k: (float(np.mean([e for e, _ in v])), float(np.mean([a for _, a in v]))) for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fp", default="morgan2")
    ap.add_argument("--bits", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=10, help="random draws of 5 reference actives")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    targets = sorted(p for p in DUDE.iterdir() if (p / "actives_final.ism").exists())
    print(
        f"fingerprint {args.fp} {args.bits or 'default'} bits; {len(targets)} DUD-E targets; "
        f"(b) averaged over {args.repeats} draws of 5 actives"
    )
    header = (
        f"{'target':8s} {'act':>4s} {'dec':>5s} | {'EF1% 1q':>8s} {'AUC 1q':>7s} | "
        f"{'EF1% max5':>9s} {'AUC max5':>8s} | {'EF1% mean5':>10s} {'AUC mean5':>9s}"
    )
    print(header)
    rows = []
    for t in targets:
        act = packed(read_ism(t / "actives_final.ism"), args.fp, args.bits)
        dec = packed(read_ism(t / "decoys_final.ism"), args.fp, args.bits)
        r = evaluate(act, dec, args.repeats, args.seed)
        rows.append(r)
        print(
            f"{t.name:8s} {len(act):4d} {len(dec):5d} | {r['single'][0]:8.1f} {r['single'][1]:7.3f} | "
            f"{r['max5'][0]:9.1f} {r['max5'][1]:8.3f} | {r['mean5'][0]:10.1f} {r['mean5'][1]:9.3f}"
        )
    mean = {k: (np.mean([r[k][0] for r in rows]), np.mean([r[k][1] for r in rows])) for k in rows[0]}
    print(
        f"{'mean':8s} {'':4s} {'':5s} | {mean['single'][0]:8.1f} {mean['single'][1]:7.3f} | "
        f"{mean['max5'][0]:9.1f} {mean['max5'][1]:8.3f} | {mean['mean5'][0]:10.1f} {mean['mean5'][1]:9.3f}"
    )


if __name__ == "__main__":
    main()
