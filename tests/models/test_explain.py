"""Feature attributions mapped to atoms."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem

from theralab.models.explain import (
    bit_contributions_to_atoms,
    environment_atoms,
    gradient_x_input,
    morgan_count_bits,
    normalise,
)


def test_bit_contributions_are_conserved_and_land_on_the_right_atoms():
    mol = Chem.MolFromSmiles("c1ccccc1[N+](=O)[O-]")  # nitrobenzene
    counts, info = morgan_count_bits(mol, 2, 1024)
    assert counts.sum() == sum(len(v) for v in info.values())
    # put all weight on the bits whose radius-0 environment is centred on the nitro N
    n_idx = next(a.GetIdx() for a in mol.GetAtoms() if a.GetSymbol() == "N")
    contrib = np.zeros(1024)
    for bit, envs in info.items():
        if any(c == n_idx and r == 0 for c, r in envs):
            contrib[bit] = 1.0
    weights = bit_contributions_to_atoms(mol, info, contrib)
    assert weights.sum() == pytest.approx(contrib[contrib > 0].sum())
    assert int(np.argmax(weights)) == n_idx
    assert weights[[a.GetIdx() for a in mol.GetAtoms() if a.GetIsAromatic()]].max() == 0.0


def test_environment_atoms():
    mol = Chem.MolFromSmiles("CCCCC")
    assert environment_atoms(mol, 2, 0) == [2]
    assert environment_atoms(mol, 2, 1) == [1, 2, 3]
    assert environment_atoms(mol, 2, 2) == [0, 1, 2, 3, 4]


def test_gradient_x_input_and_normalise():
    feats = np.array([[1.0, 0.0], [1.0, 2.0]])
    grads = np.array([[0.5, 9.0], [-1.0, 1.0]])
    assert gradient_x_input(feats, grads).tolist() == [0.5, 1.0]
    assert normalise(np.array([2.0, -4.0])).tolist() == [0.5, -1.0]
    assert normalise(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]
