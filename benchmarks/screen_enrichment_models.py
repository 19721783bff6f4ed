"""DUD-E enrichment for the model-based arms: (c) a tree model trained on K actives (default 5) plus
random decoys, (d) the screening pipeline's default ranking (``[ranking] method = "auto"``: with
fewer than ``min_actives`` actives it falls back to fused similarity for the activity evidence) and
(e) the pipeline forced to rank the model too (``method = "desirability"``: geometric mean of the
similarity and model desirabilities, the pre-issue-21 default).

Per target (seeded): K actives are the known actives; 10*K random decoys join them as negatives for
the model; all of them are removed from the evaluation set, which is every other active and decoy.
We report EF1% and AUROC per target and the mean, and (a)/(b) similarity baselines from the same
split for reference (one active as the query; max-fused similarity to the 5 actives).

DUD-E decoys are property-matched but topologically dissimilar to the actives by construction, so
2D fingerprint methods are flattered on it; these numbers say little about real prospective hit
rates (see docs/benchmarks/screening.md).

Usage: python benchmarks/screen_enrichment_models.py [--dude ../shared/data/discovery/dude] [--seed 0]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "discovery" / "dude"


def read_ism(path: Path) -> list[str]:
    return [line.split()[0] for line in path.read_text().splitlines() if line.strip()]


def ef(scores: np.ndarray, labels: np.ndarray, fraction: float = 0.01) -> float:
    """Enrichment factor: actives in the top fraction over the actives expected at random."""
    n = len(scores)
    top = max(1, int(round(n * fraction)))
    order = np.argsort(-scores, kind="mergesort")
    return float(labels[order[:top]].sum() / (labels.sum() * top / n))


def similarity(query_smiles: list[str], smiles: list[str]) -> np.ndarray:
    from rdkit import Chem, DataStructs
    from rdkit.Chem import rdFingerprintGenerator

    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    queries = [gen.GetFingerprint(Chem.MolFromSmiles(s)) for s in query_smiles]
    out = np.zeros((len(smiles), len(queries)))
    for i, s in enumerate(smiles):
        mol = Chem.MolFromSmiles(s)
        if mol is not None:
            out[i] = DataStructs.BulkTanimotoSimilarity(gen.GetFingerprint(mol), queries)
    return out


def ranking_only_orders(config: dict, sims: np.ndarray, p: np.ndarray) -> dict[str, tuple[np.ndarray, str]]:
    """``--ranking-only``: the pipeline's scoring and sort (``ScreenJob._score``, ``rank``) applied to
    the same fused-similarity and model columns, without the profile/standardisation steps (they
    cost ~95% of the run and do not touch the ranking when no filter is set)."""
    from theralab.discovery.screening import ScreenJob, rank, ranking_plan
    from theralab.discovery.screening.config import parse_config

    frame = pd.DataFrame({"row": np.arange(len(p)), "id": np.arange(len(p)), "similarity": sims, "p_active": p})
    out = {}
    for method in ("auto", "desirability"):
        cfg = parse_config({**config, "ranking": {"method": method}})
        scored = frame.copy()
        scored["score"] = ScreenJob._score(scored, cfg)
        scored = rank(scored)
        score = np.zeros(len(p))
        score[scored["id"].to_numpy()] = np.arange(len(scored), 0, -1)
        out[method] = (score, ranking_plan(cfg)[1])
    return out


def pipeline_orders(config: dict, workdir: Path, n: int) -> dict[str, tuple[np.ndarray, str]]:
    """The pipeline's final ranking under each ``[ranking] method``, as a score per molecule.

    The chunk work (profile, filters, similarity, model) runs once; each method's score is then
    recomputed from the same columns by the pipeline's own code (``ScreenJob._score``, ``rank``).
    """
    from theralab.discovery.screening import ScreenJob, rank, ranking_plan
    from theralab.discovery.screening.config import parse_config

    job = ScreenJob()
    (workdir / "chunks").mkdir(parents=True, exist_ok=True)
    plan = job.plan(config, workdir)
    for index, spec in enumerate(plan):
        job.run_chunk(config, index, spec, workdir)
    frame = pd.concat([pd.read_parquet(workdir / "chunks" / f"{i:06d}.parquet") for i in range(len(plan))])
    out = {}
    for method in ("auto", "desirability"):
        cfg = parse_config({**config, "ranking": {"method": method}})
        scored = frame.copy()
        scored["score"] = ScreenJob._score(scored, cfg)
        scored = rank(scored)
        score = np.zeros(n)  # rejected molecules (invalid, filtered) rank last
        score[scored["id"].astype(int).to_numpy()] = np.arange(len(scored), 0, -1)
        out[method] = (score, ranking_plan(cfg)[1])
    return out


def run_target(folder: Path, seed: int, workdir: Path, k: int = 5, ranking_only: bool = False) -> dict[str, float]:
    from theralab.models.fingerprint_gbm import train
    from theralab.models.registry import load_card  # noqa: F401 - the model dir is passed by path

    rng = np.random.default_rng(seed)
    actives, decoys = read_ism(folder / "actives_final.ism"), read_ism(folder / "decoys_final.ism")
    known = list(rng.choice(len(actives), k, replace=False))
    negatives = list(rng.choice(len(decoys), 10 * k, replace=False))
    train_smiles = [actives[i] for i in known] + [decoys[i] for i in negatives]
    eval_smiles = [s for i, s in enumerate(actives) if i not in known] + [
        s for i, s in enumerate(decoys) if i not in set(negatives)
    ]
    labels = np.array([1] * (len(actives) - k) + [0] * (len(eval_smiles) - len(actives) + k))
    sims = similarity([actives[i] for i in known], eval_smiles)
    out = {
        "a_ef1": ef(sims[:, 0], labels),
        "a_auc": roc_auc_score(labels, sims[:, 0]),
        "b_ef1": ef(sims.max(1), labels),
        "b_auc": roc_auc_score(labels, sims.max(1)),
    }
    model_dir = workdir / f"model-{folder.name}"
    model = train(train_smiles, [1] * k + [0] * 10 * k, model_dir, name=f"dude-{folder.name}", target="p_active",
                  seed=seed)
    p = model.predict(eval_smiles)["p_active"].to_numpy()
    p = np.nan_to_num(p, nan=0.0)
    out.update(c_ef1=ef(p, labels), c_auc=roc_auc_score(labels, p))
    # (d) the pipeline's default ranking and (e) the pipeline forced to rank the model, on the evaluation set
    library = workdir / f"lib-{folder.name}.csv"
    pd.DataFrame({"id": range(len(eval_smiles)), "smiles": eval_smiles}).to_csv(library, index=False)
    config = {
        "run": {"library": str(library), "output_dir": str(workdir / f"out-{folder.name}"), "chunk_size": 100000},
        "similarity": {"actives": [actives[i] for i in known], "fusion": "max"},
        "models": [{"name": str(model_dir), "column": "p_active"}],
        "objectives": [
            {"column": "similarity", "goal": "maximize", "low": 0.0, "high": 0.6, "weight": 1},
            {"column": "p_active", "goal": "maximize", "low": 0.0, "high": 1.0, "weight": 1},
        ],
        "diversity": {"method": "none", "top_n": 10},
    }
    if ranking_only:
        orders = ranking_only_orders(config, sims.max(1), p)
    else:
        orders = pipeline_orders(config, workdir / f"job-{folder.name}", len(eval_smiles))
    for arm, method in (("d", "auto"), ("e", "desirability")):
        score, note = orders[method]
        out.update({f"{arm}_ef1": ef(score, labels), f"{arm}_auc": roc_auc_score(labels, score)})
        if arm == "d":
            print(f"  {folder.name} pipeline ranking: {note}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dude", type=Path, default=DEFAULT)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--actives", type=int, default=5, help="known actives per target (K)")
    parser.add_argument("--targets", default="", help="comma-separated subset of targets (default: all)")
    parser.add_argument("--ranking-only", action="store_true",
                        help="(d)/(e): the pipeline's scoring and sort on the same similarity and model columns, "
                             "without profiling every molecule (fast; no filters are set, so the order is the same "
                             "up to standardisation)")
    args = parser.parse_args()
    if not args.dude.is_dir():
        raise SystemExit(f"DUD-E folder not found at {args.dude}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        wanted = set(filter(None, args.targets.split(",")))
        for folder in sorted(p for p in args.dude.iterdir() if p.is_dir() and (not wanted or p.name in wanted)):
            result = run_target(folder, args.seed, Path(tmp), args.actives, args.ranking_only)
            rows.append({"target": folder.name, **result})
            print(folder.name, {k: round(v, 3) for k, v in result.items()}, flush=True)
    table = pd.DataFrame(rows).set_index("target")
    table.loc["mean"] = table.mean()
    print(table.round(3).to_markdown())


if __name__ == "__main__":
    main()
