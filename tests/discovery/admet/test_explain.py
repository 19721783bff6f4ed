"""Atom heatmaps for the tree models and the D-MPNN, on a real small training."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem

from theralab.discovery.admet.explain import explain
from theralab.discovery.admet.train import train
from theralab.discovery.admet.user_models import AdmetModel, TrainConfig
from theralab.errors import InputError


@pytest.fixture(scope="module")
def model(shared_data, tmp_path_factory):
    frame = pd.read_csv(shared_data / "discovery" / "moleculenet" / "delaney.csv").sample(150, random_state=3)
    out = tmp_path_factory.mktemp("m") / "esol"
    train(frame, TrainConfig(targets=["logp"], kind="ensemble", split="random", members=1, epochs=5), out,
          register=False)
    return AdmetModel.load(out)


def test_tree_attributions_are_treeshap_mapped_to_atoms(model):
    mol = Chem.MolFromSmiles("OCC(O)CO")  # glycerol
    result = explain(model, mol)
    assert len(result["atom_weights"]) == mol.GetNumAtoms()
    assert max(abs(w) for w in result["atom_weights"]) == pytest.approx(1.0)
    assert 0 < result["mapped_fraction"] <= 1
    # TreeSHAP is exact: the atoms carry exactly the contributions of the ECFP bits present
    from theralab.discovery.admet.features import ECFP_BITS, maplight_features

    X = maplight_features([mol])
    contrib = np.mean([b.predict(X, pred_contrib=True)[0] for b in model.lgbm["logp"]], axis=0)
    present = X[0, :ECFP_BITS] > 0
    assert sum(result["lgbm_atom_weights"]) == pytest.approx(contrib[:ECFP_BITS][present].sum(), abs=1e-9)
    assert contrib.sum() == pytest.approx(np.mean([b.predict(X)[0] for b in model.lgbm["logp"]]), abs=1e-9)
    assert result["svg"].lstrip().startswith("<svg")


def test_dmpnn_gradients_are_per_atom_and_finite(model):
    mol = Chem.MolFromSmiles("c1ccccc1CCO")
    result = explain(model, mol, "logp")
    grads = np.array(result["chemprop_atom_weights"])
    assert grads.shape == (mol.GetNumAtoms(),) and np.isfinite(grads).all() and np.abs(grads).sum() > 0


def test_unknown_target(model):
    with pytest.raises(InputError, match="no target"):
        explain(model, Chem.MolFromSmiles("CCO"), "hERG")
