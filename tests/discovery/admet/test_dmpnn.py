"""The Chemprop D-MPNN wrapper: best-epoch selection on a validation set, RDKit 2D descriptors beside
the learned vector, and a save/load round trip that keeps both (trained for real on ESOL rows)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem

from theralab.discovery.admet import dmpnn


@pytest.fixture(scope="module")
def esol(shared_data: Path) -> tuple[list[Chem.Mol], np.ndarray]:
    frame = pd.read_csv(shared_data / "discovery" / "moleculenet" / "delaney.csv").sample(120, random_state=0)
    return [Chem.MolFromSmiles(s) for s in frame["smiles"]], frame[["logp"]].to_numpy(float)


def _rmse(pred: np.ndarray, y: np.ndarray) -> float:
    return float(np.sqrt(np.mean((pred - y) ** 2)))


def test_validation_set_keeps_the_best_epoch(esol) -> None:
    mols, y = esol
    model, config = dmpnn.train(mols[:80], y[:80], "regression", epochs=6, seed=0,
                                val_mols=mols[80:100], val_y=y[80:100])
    assert 0 <= config["best_epoch"] < 6 and np.isfinite(config["best_val_loss"])
    # the kept weights are the best epoch's: their validation loss (MSE on standardised targets) is the recorded one
    pred = dmpnn.predict(model, mols[80:100])
    scaled_mse = float(np.mean(((pred - y[80:100]) / config["y_scale"][0]) ** 2))
    assert scaled_mse == pytest.approx(config["best_val_loss"], rel=1e-3)
    _, last = dmpnn.train(mols[:80], y[:80], "regression", epochs=6, seed=0)
    assert "best_epoch" not in last  # without a validation set the last epoch is kept, as before


def test_rdkit_descriptors_beside_the_learned_vector_survive_save_and_load(esol, tmp_path: Path) -> None:
    pytest.importorskip("descriptastorus")
    mols, y = esol
    model, config = dmpnn.train(mols[:80], y[:80], "regression", epochs=4, seed=0, descriptors="rdkit2d_normalized")
    n_desc = len(config["x_mean"])
    assert n_desc > 100 and model.predictor.input_dim == 300 + n_desc
    pred = dmpnn.predict(model, mols[100:])
    assert pred.shape == (20, 1) and np.isfinite(pred).all()
    assert _rmse(pred, y[100:]) < 3 * float(np.std(y[100:]))
    dmpnn.save(model, config, tmp_path)
    again = dmpnn.load(tmp_path)
    np.testing.assert_allclose(dmpnn.predict(again, mols[100:]), pred, rtol=1e-6)
    with pytest.raises(ValueError, match="unknown descriptor set"):
        dmpnn.descriptor_matrix(mols[:2], "mordred")


def test_a_constant_descriptor_column_is_not_blown_up(esol) -> None:
    """Found in the FreeSolv benchmark: float32 statistics gave a constant column a 1e-22 spread."""
    pytest.importorskip("descriptastorus")
    mols, y = esol
    model, config = dmpnn.train(mols[:40], y[:40], "regression", epochs=1, seed=0, descriptors="rdkit2d_normalized")
    x = dmpnn.descriptor_matrix(mols, "rdkit2d_normalized")
    z = (x - np.asarray(config["x_mean"])) / np.asarray(config["x_scale"])
    assert np.abs(z).max() < 1e3
