"""The budgeted oracle every optimiser calls: caching, call counting, history and PMO's AUC-top-k.

The PMO benchmark (Gao et al., NeurIPS 2022) counts *oracle calls* = unique molecules scored; a
molecule seen before costs nothing and returns its cached score. :func:`top_auc` is PMO's
``top_auc`` (area under the running top-k mean curve, logged every ``freq`` calls, extended flat
to the budget when a run stops early), so our numbers are comparable with its tables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from rdkit import Chem, rdBase

from theralab.discovery.generate.scoring import Scorer


def canonical(smiles: str) -> str | None:
    """RDKit canonical SMILES, or None when it does not parse (quietly: generators make many)."""
    if not smiles:
        return None
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(smiles)
    return Chem.MolToSmiles(mol) if mol is not None else None


@dataclass
class Oracle:
    """Scores molecules under a budget of unique scoring calls.

    Args:
        scorer: a :class:`Scorer` or any ``f(list[str]) -> array`` of scores in [0, 1].
        budget: how many unique valid molecules may be scored.
    """

    scorer: Scorer | Callable[[list[str]], np.ndarray]
    budget: int
    cache: dict[str, float] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    rows: list[pd.DataFrame] = field(default_factory=list)
    invalid: int = 0

    @property
    def calls(self) -> int:
        """Unique molecules scored so far."""
        return len(self.order)

    @property
    def exhausted(self) -> bool:
        """True once the budget is spent."""
        return self.calls >= self.budget

    def __call__(self, smiles: Sequence[str]) -> np.ndarray:
        """Scores of ``smiles`` (0 for invalid ones; NaN for new molecules past the budget)."""
        canon = [canonical(s) for s in smiles]
        self.invalid += sum(c is None for c in canon)
        new: list[str] = []
        for c in canon:
            if c is not None and c not in self.cache and c not in new:
                new.append(c)
        new = new[: max(self.budget - self.calls, 0)]
        if new:
            if isinstance(self.scorer, Scorer):
                batch = self.scorer(new)
                values, table = batch.total, batch.table
            else:
                values = np.asarray(self.scorer(new), dtype=float)
                table = pd.DataFrame({"smiles": new, "score": values})
            values = np.nan_to_num(values, nan=0.0)
            table = table.assign(call=np.arange(self.calls + 1, self.calls + 1 + len(new)))
            for c, v in zip(new, values, strict=True):
                self.cache[c] = float(v)
                self.order.append(c)
            self.rows.append(table)
        return np.array([0.0 if c is None else self.cache.get(c, np.nan) for c in canon])

    def top_mean(self, k: int = 10) -> float:
        """Mean of the ``k`` best scores so far (0 before any call)."""
        if not self.cache:
            return 0.0
        return float(np.mean(sorted(self.cache.values(), reverse=True)[:k]))

    def auc_top(self, k: int = 10, freq: int = 100, finish: bool = True) -> float:
        """PMO AUC-top-k of this run's call history at this oracle's budget."""
        return top_auc([self.cache[c] for c in self.order], k, finish, freq, self.budget)

    def results(self, top: int | None = None) -> pd.DataFrame:
        """Every scored molecule, best first, with per-component scores (``rank`` from 1)."""
        if not self.rows:
            return pd.DataFrame(columns=["rank", "smiles", "score", "call"])
        table = pd.concat(self.rows, ignore_index=True).sort_values(["score", "call"], ascending=[False, True])
        table = table.reset_index(drop=True)
        table.insert(0, "rank", np.arange(1, len(table) + 1))
        return table if top is None else table.head(top)


def top_auc(scores_in_call_order: Sequence[float], top_n: int, finish: bool, freq: int, max_calls: int) -> float:
    """PMO's ``top_auc``: trapezoid area of the running top-``n`` mean every ``freq`` calls, / budget.

    Reimplemented from the PMO repository (``mol_opt/main/optimizer.py``, ``top_auc``): the curve is
    sampled at ``freq, 2 freq, ...`` calls, closed at the last call, and, when ``finish`` and the run
    used fewer than ``max_calls``, held at its final value up to ``max_calls``.
    """
    scores = list(scores_in_call_order)
    if not scores:
        return 0.0
    total, prev, called = 0.0, 0.0, 0
    for idx in range(freq, min(len(scores), max_calls), freq):
        now = float(np.mean(sorted(scores[:idx], reverse=True)[:top_n]))
        total += freq * (now + prev) / 2
        prev, called = now, idx
    now = float(np.mean(sorted(scores, reverse=True)[:top_n]))
    total += (len(scores) - called) * (now + prev) / 2
    if finish and len(scores) < max_calls:
        total += (max_calls - len(scores)) * now
    return total / max_calls
