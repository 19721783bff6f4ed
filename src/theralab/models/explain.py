"""Atom-level explanations: turn feature attributions into one signed weight per atom.

Why per atom: a chemist acts on structure ("this nitro group drives the AMES call"), not on
"feature 731". Two routes are provided, both model-agnostic:

* fingerprint models: exact per-feature contributions (e.g. LightGBM's TreeSHAP,
  ``pred_contrib=True``) for Morgan count bits are spread over the atoms of every environment
  that set the bit (``rdFingerprintGenerator`` additional output), equally among its atoms, so the
  atom weights of those features sum to the bits' total contribution;
* graph neural networks: gradient x input on the atom feature matrix, summed over features.

:func:`normalise` scales weights to [-1, 1] for :func:`theralab.chem.depict.mol_to_svg`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rdkit import Chem


def morgan_count_bits(mol: Chem.Mol, radius: int = 2, n_bits: int = 1024) -> tuple[np.ndarray, dict[int, list]]:
    """Morgan count fingerprint and, per set bit, the (centre atom, radius) environments behind it."""
    from rdkit.Chem import rdFingerprintGenerator as rfg

    from theralab.chem.fingerprints import morgan_generator

    gen = morgan_generator(radius, n_bits)
    ao = rfg.AdditionalOutput()
    ao.AllocateBitInfoMap()
    fp = gen.GetCountFingerprintAsNumPy(mol, additionalOutput=ao)
    return np.asarray(fp, dtype=float), {int(k): list(v) for k, v in ao.GetBitInfoMap().items()}



def environment_atoms(mol: Chem.Mol, centre: int, radius: int) -> list[int]:
    """Atoms of the Morgan environment of ``radius`` bonds around ``centre``."""
    if radius == 0:
        return [centre]
    bonds = Chem.FindAtomEnvironmentOfRadiusN(mol, radius, centre)
    atoms = {centre}
    for b in bonds:
        bond = mol.GetBondWithIdx(b)
        atoms.update((bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()))
    return sorted(atoms)


def bit_contributions_to_atoms(mol: Chem.Mol, bit_info: dict[int, list], contributions: Sequence[float]) -> np.ndarray:
    """Spread per-bit contributions over atoms.

    Args:
        mol: the molecule the fingerprint was computed on.
        bit_info: bit -> list of (centre atom, radius), from :func:`morgan_count_bits`.
        contributions: contribution of each fingerprint bit (length = fingerprint size).

    Returns:
        One weight per atom; each bit's contribution is shared equally by its environments and
        within an environment equally by its atoms.
    """
    weights = np.zeros(mol.GetNumAtoms())
    for bit, envs in bit_info.items():
        c = float(contributions[bit])
        if c == 0.0 or not envs:
            continue
        share = c / len(envs)
        for centre, radius in envs:
            atoms = environment_atoms(mol, int(centre), int(radius))
            weights[atoms] += share / len(atoms)
    return weights


def gradient_x_input(features: np.ndarray, gradients: np.ndarray) -> np.ndarray:
    """Per-atom gradient x input, summed over the feature axis."""
    return (np.asarray(features) * np.asarray(gradients)).sum(axis=1)


def normalise(weights: np.ndarray) -> np.ndarray:
    """Scale to [-1, 1] by the largest absolute weight (all-zero stays zero)."""
    w = np.asarray(weights, float)
    top = np.abs(w).max() if w.size else 0.0
    return w / top if top > 0 else w
