"""Mention-level scoring: strict span match per type, with bootstrap confidence intervals over documents.

Why strict: the BioCreative V CDR task and the published figures (PubMedBERT 93.3 / 85.6) count a
mention right only when start, end and type all match, so the figures compare.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

Span = tuple[int, int, str]


def counts(gold: Iterable[Span], pred: Iterable[Span], type_: str) -> tuple[int, int, int]:
    """(true positives, predicted, gold) of one document for one type."""
    g = {s for s in gold if s[2] == type_}
    p = {s for s in pred if s[2] == type_}
    return len(g & p), len(p), len(g)


def prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float]:
    """Precision, recall and F1 (0 where undefined)."""
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def score(gold_docs: list[list[Span]], pred_docs: list[list[Span]], types: tuple[str, ...],
          bootstrap: int = 1000, seed: int = 13) -> dict[str, dict[str, object]]:
    """Per type: P/R/F1, counts and a 95% percentile bootstrap interval of F1 (documents resampled).

    Args:
        gold_docs: gold spans per document.
        pred_docs: predicted spans per document, same order.
        types: the entity types to score.
        bootstrap: resamples for the interval (0: none).
        seed: the resampling seed.
    """
    out: dict[str, dict[str, object]] = {}
    rng = random.Random(seed)
    for t in types:
        per_doc = [counts(g, p, t) for g, p in zip(gold_docs, pred_docs, strict=True)]
        tp, n_pred, n_gold = (sum(c[i] for c in per_doc) for i in range(3))
        row: dict[str, object] = {**prf(tp, n_pred, n_gold), "tp": tp, "predicted": n_pred, "gold": n_gold}
        if bootstrap and per_doc:
            fs = []
            for _ in range(bootstrap):
                sample = [per_doc[rng.randrange(len(per_doc))] for _ in per_doc]
                fs.append(prf(*(sum(c[i] for c in sample) for i in range(3)))["f1"])
            fs.sort()
            row["f1_ci95"] = [fs[int(0.025 * bootstrap)], fs[int(0.975 * bootstrap) - 1]]
        out[t] = row
    return out
