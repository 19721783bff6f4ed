"""One split, both models, the same test pairs: Pearson, Spearman and RMSE."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import pearsonr, spearmanr

from theralab.precision.response.data import ResponseData, split_pairs
from theralab.precision.response.model import NeighbourGBM, Similarities, additive_predict, side_similarities


def _metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {"pearson": float(pearsonr(y, p)[0]), "spearman": float(spearmanr(y, p)[0]),
            "rmse": float(np.sqrt(np.mean((y - p) ** 2)))}


def evaluate_split(data: ResponseData, split: str, *, seed: int = 0, sims: Similarities | None = None,
                   rounds: int = 400) -> dict[str, Any]:
    """Fit the additive baseline and NeighbourGBM on the training pairs of ``split``; score the test pairs."""
    sims = sims or side_similarities(data)
    test = split_pairs(data, split, seed=seed)
    y_train = np.where(test, np.nan, data.y)
    truth = data.y[test]
    base = additive_predict(y_train)[test]
    model = NeighbourGBM(split=split, seed=seed, rounds=rounds).fit(y_train, sims)
    ours = model.predict(y_train, sims, test)
    out: dict[str, Any] = {"split": split, "seed": seed, "test_pairs": int(test.sum()),
                           "train_pairs": int(np.isfinite(y_train).sum())}
    out.update({f"baseline_{k}": v for k, v in _metrics(truth, base).items()})
    out.update({f"model_{k}": v for k, v in _metrics(truth, ours).items()})
    gain = model.booster.feature_importance("gain")
    out["importance"] = dict(sorted(zip(model.names, (gain / gain.sum()).round(3).tolist(), strict=True),
                                    key=lambda kv: -kv[1]))
    return out
