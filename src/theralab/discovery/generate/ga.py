"""Graph GA: a genetic algorithm on molecular graphs (Jensen 2019), driven by the scoring oracle.

Each generation draws a mating pool with probability proportional to score, makes
``offspring_size`` children by crossover + mutation (:mod:`.graph_ops`), scores the new ones (one
oracle call per unique new molecule, the budget unit) and keeps the best ``population_size`` unique
molecules of parents + children. It stops when the budget is spent or when the top-10 mean has not
improved for ``patience`` generations (the PMO early-stop rule).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rdkit import Chem, rdBase

from theralab.discovery.generate.graph_ops import crossover, mutate
from theralab.discovery.generate.oracle import Oracle, canonical
from theralab.discovery.generate.schemas import GAConfig
from theralab.errors import InputError

Progress = Callable[[dict[str, float]], None]


@dataclass
class RunResult:
    """What an optimiser returns: the oracle (history, cache) and per-step progress rows."""

    oracle: Oracle
    history: pd.DataFrame
    stopped: str

    def table(self, top: int | None = None) -> pd.DataFrame:
        """Ranked molecules with per-component scores."""
        return self.oracle.results(top)


def _reproduce(pool: list[Chem.Mol], weights: np.ndarray, cfg: GAConfig, rng: random.Random) -> Chem.Mol | None:
    a, b = rng.choices(pool, weights=weights, k=2)
    child = crossover(a, b, rng, cfg.average_size, cfg.size_stdev)
    if child is not None:
        child = mutate(child, rng, cfg.mutation_rate, cfg.average_size, cfg.size_stdev)
    return child


def run_ga(
    oracle: Oracle,
    start_smiles: Sequence[str],
    cfg: GAConfig | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> RunResult:
    """Optimise with Graph GA until the oracle's budget is spent or the search stalls.

    Args:
        oracle: budgeted scorer (its ``budget`` is in unique scoring calls).
        start_smiles: starting pool; the best ``population_size`` after scoring seed the search.
        cfg: GA settings.
        seed: random seed (the run is reproducible given the same scorer).
        progress: called after every generation with ``{generation, calls, best, top10, unique...}``.
    """
    cfg = cfg or GAConfig()
    rng = random.Random(seed)
    start = [c for c in dict.fromkeys(canonical(s) for s in start_smiles) if c]
    if len(start) < 2:
        raise InputError("Graph GA needs at least 2 valid starting molecules", where="run.start_smiles",
                         hint="give start_smiles in the run file, or let the prior sample them")
    rng.shuffle(start)
    start = start[: max(cfg.population_size * 4, cfg.population_size)]
    scores = oracle(start)
    keep = [(s, sc) for s, sc in zip(start, scores, strict=True) if np.isfinite(sc)]
    population = sorted(keep, key=lambda t: -t[1])[: cfg.population_size]
    rows: list[dict[str, float]] = []
    best_top10, stale, generation, stopped = oracle.top_mean(10), 0, 0, "budget"
    while not oracle.exhausted:
        generation += 1
        with rdBase.BlockLogs():
            mols = [Chem.MolFromSmiles(s) for s, _ in population]
        w = np.array([sc for _, sc in population], dtype=float) + 1e-6  # PMO: avoid an all-zero pool
        children = []
        for _ in range(cfg.offspring_size):
            child = _reproduce(mols, w, cfg, rng)
            if child is not None:
                smi = canonical(Chem.MolToSmiles(child))
                if smi:
                    children.append(smi)
        child_scores = oracle(children) if children else np.zeros(0)
        merged = dict(population)
        for s, sc in zip(children, child_scores, strict=True):
            if np.isfinite(sc):
                merged[s] = float(sc)
        population = sorted(merged.items(), key=lambda t: -t[1])[: cfg.population_size]
        top10 = oracle.top_mean(10)
        row = {"generation": generation, "calls": oracle.calls, "best": population[0][1], "top10": top10,
               "valid": len(children) / cfg.offspring_size,
               "unique": len(set(children)) / max(len(children), 1)}
        rows.append(row)
        if progress:
            progress(row)
        if top10 > best_top10 + 1e-3:
            best_top10, stale = top10, 0
        else:
            stale += 1
            if stale >= cfg.patience:
                stopped = f"no improvement in {cfg.patience} generations"
                break
    return RunResult(oracle=oracle, history=pd.DataFrame(rows), stopped=stopped)
