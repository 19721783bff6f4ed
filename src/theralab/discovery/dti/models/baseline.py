"""The baseline always reported beside the deep models: ECFP4 + protein k-mers into LightGBM.

Drug: 1,024-bit Morgan radius-2 bits from ``theralab.chem.fingerprints`` (the project's one
fingerprint code). Target: the 420-column 1+2-mer composition. A bag of gradient-boosted trees
with different seeds and row subsamples gives an ensemble spread, like the deep members.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from theralab.discovery.dti.featurize import ecfp, kmer_composition

BASELINE_DEFAULTS: dict[str, Any] = {"bits": 1024, "n_estimators": 1500, "learning_rate": 0.05, "num_leaves": 63,
                                     "subsample": 0.8, "colsample_bytree": 0.5,
                                     "min_child_samples": 20}


class BaselineFeaturizer:
    """ECFP rows per drug and k-mer rows per target, joined per pair."""

    def __init__(self, **config: Any) -> None:
        self.bits = int({**BASELINE_DEFAULTS, **config}["bits"])

    def drugs(self, smiles: list[str]) -> np.ndarray:
        return ecfp(smiles, self.bits)

    def targets(self, sequences: list[str]) -> np.ndarray:
        return kmer_composition(sequences)

    @staticmethod
    def pairs(drug_table: np.ndarray, target_table: np.ndarray, d: np.ndarray, t: np.ndarray) -> np.ndarray:
        return np.hstack([drug_table[d], target_table[t]])


def fit_baseline(x: np.ndarray, y: np.ndarray, x_valid: np.ndarray | None, y_valid: np.ndarray | None,
                 config: dict[str, Any], seed: int, patience: int = 50) -> Any:
    """One LightGBM regressor, early-stopped on the validation pairs when there are any."""
    import lightgbm as lgb

    c = {**BASELINE_DEFAULTS, **config}
    params = {"objective": "regression", "learning_rate": c["learning_rate"], "num_leaves": c["num_leaves"],
              "bagging_fraction": c["subsample"], "bagging_freq": 1, "feature_fraction": c["colsample_bytree"],
              "min_data_in_leaf": c["min_child_samples"], "seed": seed, "num_threads": 1, "verbose": -1}
    train = lgb.Dataset(x, y)
    kwargs: dict[str, Any] = {}
    if x_valid is not None and len(x_valid):
        kwargs = {"valid_sets": [lgb.Dataset(x_valid, y_valid, reference=train)],
                  "callbacks": [lgb.early_stopping(patience, verbose=False)]}
    return lgb.train(params, train, num_boost_round=c["n_estimators"], **kwargs)


def save_booster(booster: Any, path: Path) -> None:
    """LightGBM's own text format (never pickle)."""
    booster.save_model(str(path))


def load_booster(path: Path) -> Any:
    import lightgbm as lgb

    return lgb.Booster(model_file=str(path))
