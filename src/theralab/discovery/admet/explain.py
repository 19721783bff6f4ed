"""Why did this molecule score badly? Per-atom contributions drawn on the structure.

* LightGBM members: exact TreeSHAP contributions (``pred_contrib=True``) of every feature; the
  ECFP4 count-bit contributions are spread over the atoms of the environments that set each bit
  (:func:`theralab.models.explain.bit_contributions_to_atoms`). Avalon, ErG and whole-molecule
  descriptors have no atom mapping, so ``mapped_fraction`` reports the share of the total
  absolute contribution that the drawing shows (a drawing that explains 20% must say so).
* Chemprop members: gradient x input on the atom features.
* Ensemble: the mean of the two families' maps, each scaled to [-1, 1] first so neither unit
  dominates.

Signs: positive = pushes the prediction up (higher value, or towards the positive class).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rdkit import Chem

from theralab.discovery.admet.features import ECFP_BITS, maplight_features
from theralab.discovery.admet.user_models import AdmetModel
from theralab.errors import InputError
from theralab.models.explain import bit_contributions_to_atoms, morgan_count_bits, normalise


def explain(model: AdmetModel, mol: Chem.Mol, target: str | None = None) -> dict[str, Any]:
    """Atom weights (raw and scaled) and an SVG heatmap for one molecule and target.

    Raises:
        InputError: unknown target name.
    """
    from theralab.discovery.admet import dmpnn as admet_chemprop
    from theralab.discovery.admet.explain_view import heatmap_svg

    target = target or model.targets[0]
    if target not in model.targets:
        raise InputError(f"model has no target {target!r}", where="target", hint=", ".join(model.targets))
    j = model.targets.index(target)
    maps: list[np.ndarray] = []
    result: dict[str, Any] = {"target": target}
    if target in model.lgbm:
        X = maplight_features([mol])
        contrib = np.mean([b.predict(X, pred_contrib=True)[0] for b in model.lgbm[target]], axis=0)
        feats = contrib[:-1]
        counts, info = morgan_count_bits(mol, 2, ECFP_BITS)
        present = counts > 0  # an absent bit also has a SHAP value, but no atoms to draw it on
        tree_atoms = bit_contributions_to_atoms(mol, info, np.where(present, feats[:ECFP_BITS], 0.0))
        total = np.abs(feats).sum()
        result["lgbm_atom_weights"] = tree_atoms.tolist()
        result["mapped_fraction"] = float(np.abs(feats[:ECFP_BITS][present]).sum() / total) if total > 0 else 0.0
        result["lgbm_expected_value"] = float(contrib[-1])
        maps.append(normalise(tree_atoms))
    if model.chemprop:
        grads = np.mean([admet_chemprop.atom_attributions(m, mol, j) for m in model.chemprop], axis=0)
        result["chemprop_atom_weights"] = grads.tolist()
        maps.append(normalise(grads))
    weights = normalise(np.mean(maps, axis=0)) if maps else np.zeros(mol.GetNumAtoms())
    result["atom_weights"] = weights.tolist()
    result["value"] = float(model.predict([mol])[target].iloc[0])
    if "mapped_fraction" in result:
        note = f"drawn ECFP bits carry {result['mapped_fraction']:.0%} of the trees' total |SHAP|"
    else:
        note = "D-MPNN gradient x input, scaled to [-1, 1] (no share of the prediction claimed)"
    result["svg"] = heatmap_svg(mol, weights, title=f"{target} = {result['value']:.3g}", note=note,
                                units="(relative)")
    return result
