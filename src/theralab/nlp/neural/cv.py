"""The k-fold estimate of the criteria tagger: pool fold models' held-out figures into a card.

Why a module of its own: the shipped ``chia-bilstm`` is trained on every Chia trial, so its
held-out figure can only come from fold models trained on four fifths of the trials each; these
functions turn their cards into the micro-averaged table the shipped card carries (``metrics.cv``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from theralab.errors import InputError


def cv_summary(fold_dirs: list[Path]) -> dict[str, Any]:
    """Pool the held-out metrics of k fold models (their cards) into one k-fold estimate.

    Per type and overall, true positives are recovered from each fold's precision x predictions and
    recall x gold and summed, so the pooled figures are micro-averages over every trial of the
    corpus (each trial scored once, by the model that did not see it); the per-fold overall figures
    and their spread are kept beside them.

    Raises:
        InputError: when a directory's card has no held-out metrics or two cards hold the same fold.
    """
    from theralab.models.registry import load_card

    folds: list[dict[str, Any]] = []
    pooled: dict[str, dict[str, list[float]]] = {}
    for d in fold_dirs:
        card = load_card(Path(d), verify=False)
        flat = (card.metrics or {}).get("heldout_flattened")
        if not flat:
            raise InputError(f"{d} has no held-out metrics in its card", hint="pass fold models trained with --fold K")
        fold = (card.training_data or {}).get("fold")
        if fold is not None and any(f["fold"] == fold for f in folds):
            raise InputError(f"fold {fold} is given twice", where=str(d))
        o, e = flat["overall"]["overlap"], flat["overall"]["exact"]
        folds.append({"fold": fold, "trials": (card.training_data or {}).get("test_trials"), "seeds": card.seeds,
                      "gold": o["gold"],
                      "overlap_precision": o["precision"], "overlap_recall": o["recall"], "overlap_f1": o["f1"],
                      "exact_f1": e["f1"]})
        for etype, kinds in flat.items():
            for kind, m in kinds.items():
                acc = pooled.setdefault(etype, {}).setdefault(kind, [0.0, 0.0, 0.0, 0.0])
                acc[0] += m["precision"] * m["pred"]
                acc[1] += m["pred"]
                acc[2] += m["recall"] * m["gold"]
                acc[3] += m["gold"]
    table: dict[str, dict[str, dict[str, float]]] = {}
    for etype, kinds in pooled.items():
        for kind, (tp_p, n_pred, tp_g, n_gold) in kinds.items():
            p = tp_p / n_pred if n_pred else 0.0
            r = tp_g / n_gold if n_gold else 0.0
            table.setdefault(etype, {})[kind] = {"precision": round(p, 4), "recall": round(r, 4),
                                                 "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
                                                 "gold": int(n_gold), "pred": int(n_pred)}
    f1s = [f["overlap_f1"] for f in folds]
    mean = sum(f1s) / len(f1s)
    sd = (sum((x - mean) ** 2 for x in f1s) / (len(f1s) - 1)) ** 0.5 if len(f1s) > 1 else 0.0
    return {"folds": folds, "overlap_f1_mean": round(mean, 4), "overlap_f1_sd": round(sd, 4), "pooled": table}


def pool_into_card(model_dir: Path, cv: dict[str, Any] | None) -> dict[str, Any]:
    """Put the pooled fold figures into an all-trials model's card (weights checked, not retrained).

    Raises:
        InputError: when the model in ``model_dir`` was not trained on every trial (a fold model's
            card already holds its own held-out figures).
    """
    from theralab.models.registry import load_card, save_card

    card = load_card(model_dir)  # verifies the weights against the card first
    if (card.training_data or {}).get("fold") is not None:
        raise InputError(f"{model_dir} holds a fold model", hint="pool into the --all model's directory")
    card.metrics = {**(card.metrics or {}), "cv": cv}
    save_card(model_dir, card)
    summary = {"model": str(model_dir), "cv": {k: v for k, v in (cv or {}).items() if k != "pooled"}}
    print(json.dumps(summary, indent=2))
    return summary
