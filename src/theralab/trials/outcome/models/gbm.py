"""The gradient-boosting baseline: LightGBM on the feature table, with exact TreeSHAP per trial.

Out-of-fold predictions (stratified K folds) give an honest score of every training trial for
calibration and the decision threshold; the final booster is then fitted on all training trials.
``Booster.predict(pred_contrib=True)`` returns exact TreeSHAP values (Lundberg et al. 2020) in
log-odds units, one per feature plus the expected value, which sum to the raw score.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary", "learning_rate": 0.03, "num_leaves": 15, "min_data_in_leaf": 20,
    "feature_fraction": 0.3, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
    "num_threads": 1, "verbose": -1, "deterministic": True, "force_row_wise": True,
}
DEFAULT_ROUNDS = 300


def fit_booster(x: pd.DataFrame, y: np.ndarray, *, params: dict[str, Any] | None = None,
                rounds: int = DEFAULT_ROUNDS, seed: int = 0) -> Any:
    """One LightGBM booster on ``x`` (NaN = missing, handled natively) and 0/1 ``y``."""
    import lightgbm as lgb

    p = {**DEFAULT_PARAMS, **(params or {}), "seed": seed}
    data = lgb.Dataset(x.to_numpy(dtype=float), label=np.asarray(y, dtype=float),
                       feature_name=[str(c) for c in x.columns], free_raw_data=True)
    return lgb.train(p, data, num_boost_round=int(rounds))


def oof_predict(x: pd.DataFrame, y: np.ndarray, *, folds: int = 5, seed: int = 0,
                params: dict[str, Any] | None = None, rounds: int = DEFAULT_ROUNDS) -> np.ndarray:
    """Out-of-fold raw probabilities: each trial scored by a booster that never saw it."""
    from sklearn.model_selection import StratifiedKFold

    out = np.zeros(len(y))
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        booster = fit_booster(x.iloc[tr], y[tr], params=params, rounds=rounds, seed=seed)
        out[te] = booster.predict(x.iloc[te].to_numpy(dtype=float))
    return out


def predict_raw(booster: Any, x: pd.DataFrame) -> np.ndarray:
    """Uncalibrated success probabilities."""
    return booster.predict(x.to_numpy(dtype=float))


def shap_values(booster: Any, x: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Exact TreeSHAP contributions (log-odds) per trial and feature, and the expected value per trial."""
    contrib = booster.predict(x.to_numpy(dtype=float), pred_contrib=True)
    return pd.DataFrame(contrib[:, :-1], index=x.index, columns=x.columns), contrib[:, -1]


def load_booster(path: str) -> Any:
    """A booster from LightGBM's text format (no pickle)."""
    import lightgbm as lgb

    return lgb.Booster(model_file=path)
