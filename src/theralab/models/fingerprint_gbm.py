"""A small, fast baseline model: LightGBM on Morgan (ECFP4) count fingerprints.

Why it exists beside the richer ADMET models: screening needs a model that trains in seconds on a
handful of actives and decoys (the enrichment benchmark trains on 5 actives), and the test suite
needs a real registered model to plug into the pipeline. Weights are LightGBM's own text format,
so loading never unpickles anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from theralab.errors import InputError
from theralab.models.registry import ModelCard, fingerprint_table, load_card, save_card

NBITS = 2048


def featurise(smiles: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Morgan radius-2 count fingerprints (2048) and a mask of rows RDKit could parse."""
    from rdkit import Chem

    from theralab.chem.fingerprints import morgan_generator

    gen = morgan_generator(2, NBITS)
    out = np.zeros((len(smiles), NBITS), dtype=np.float32)
    ok = np.zeros(len(smiles), dtype=bool)
    for i, smi in enumerate(smiles):
        mol = Chem.MolFromSmiles(str(smi)) if smi else None
        if mol is None:
            continue
        out[i] = gen.GetCountFingerprintAsNumPy(mol)
        ok[i] = True
    return out, ok


class FingerprintGBM:
    """A trained model: ``predict`` returns one column named after the target."""

    def __init__(self, booster: object, card: ModelCard) -> None:
        self.booster = booster
        self.card = card

    def predict(self, smiles: Sequence[str]) -> pd.DataFrame:
        x, ok = featurise(smiles)
        values = np.full(len(smiles), np.nan)
        if ok.any():
            values[ok] = self.booster.predict(x[ok])  # type: ignore[attr-defined]
        return pd.DataFrame({self.card.target: values})  # type: ignore[attr-defined]


def train(smiles: Sequence[str], y: Sequence[float], out_dir: Path, *, name: str, target: str = "score",
          task: str = "classification", seed: int = 0, n_estimators: int = 200) -> FingerprintGBM:
    """Train, save (LightGBM text + card) and return the model."""
    import lightgbm as lgb

    x, ok = featurise(smiles)
    labels = np.asarray(y, dtype=float)
    if not ok.all():
        bad = [i + 1 for i in np.flatnonzero(~ok)[:5]]
        raise InputError(f"{int((~ok).sum())} training SMILES do not parse", where=f"rows {bad}")
    if task == "classification" and len(set(labels.tolist())) < 2:
        raise InputError("classification needs both classes in the training data", where="y")
    if np.isnan(labels).any():
        raise InputError("training targets contain missing values", where="y")
    params = {"n_estimators": n_estimators, "learning_rate": 0.05, "num_leaves": 31, "min_child_samples": 2,
              "random_state": seed, "deterministic": True, "n_jobs": 1, "verbose": -1}
    model = (lgb.LGBMClassifier if task == "classification" else lgb.LGBMRegressor)(**params)
    model.fit(x, labels if task != "classification" else labels.astype(int))
    out_dir.mkdir(parents=True, exist_ok=True)
    model.booster_.save_model(str(out_dir / "model.txt"))
    card = ModelCard(
        name=name, task=task, description="LightGBM on Morgan r2 count fingerprints (2048)",
        training_data=fingerprint_table(pd.DataFrame({"smiles": list(smiles), target: labels})),
        seeds=[seed], weights={"model.txt": ""}, loader="theralab.models.fingerprint_gbm:load", target=target,
        retrain="theralab.models.fingerprint_gbm.train(smiles, y, out_dir, name=...)",
    )
    save_card(out_dir, card)
    return load(out_dir)


def load(model_dir: Path) -> FingerprintGBM:
    """Load a saved model (checksums verified by the card first)."""
    import lightgbm as lgb

    card = load_card(model_dir)
    booster = lgb.Booster(model_file=str(Path(model_dir) / "model.txt"))
    return FingerprintGBM(booster, card)
