"""Atom explanations of a panel endpoint that account for the whole prediction, drawn with a scale.

Why integrated gradients, not gradient x input: a chemist reads a heatmap as "these atoms make
the prediction"; gradient x input carries no such promise (its atom sums can be a few per cent of
the prediction). Integrated gradients (Sundararajan et al., ICML 2017) over *both* the atom and the
bond features of the D-MPNN's input graph, from the all-zero graph to the molecule, satisfy

    sum_i attribution_i = f(molecule) - f(zero graph)          (completeness)

up to the Riemann error of the path integral (``steps`` midpoints). Each directed bond's share is
split between its two atoms, so the atoms carry all of ``f(x) - f(0)``; ``accounted`` reports the
ratio actually reached (1.0 means the drawing explains the whole difference from the baseline).
Values are in the endpoint's own units: probability for classifiers, the regression unit otherwise.
The five models of an endpoint's ensemble are explained one by one and averaged, as is the prediction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rdkit import Chem

from theralab.errors import InputError

STEPS = 32


def _integrated_gradients(model: Any, molgraph: Any, task: int, steps: int) -> tuple[np.ndarray, float, float]:
    """Per-atom IG for one D-MPNN, its prediction at the molecule and at the zero graph.

    The ``steps`` points of the path are one batch of ``steps`` copies of the molecule graph, each
    copy's features scaled by its own alpha: one forward and one backward pass per model.
    """
    import torch
    from chemprop.data import BatchMolGraph

    n_atoms, n_edges = molgraph.V.shape[0], molgraph.E.shape[0]
    batch = BatchMolGraph([molgraph] * steps + [molgraph])  # the last copy: the molecule itself
    alphas = torch.tensor([(k + 0.5) / steps for k in range(steps)] + [1.0], dtype=batch.V.dtype)
    V0, E0 = batch.V.clone(), batch.E.clone()
    model.eval()
    with torch.enable_grad():
        V = (V0 * alphas.repeat_interleave(n_atoms)[:, None]).requires_grad_(True)
        E = (E0 * alphas.repeat_interleave(n_edges)[:, None]).requires_grad_(True)
        batch.V, batch.E = V, E
        out = model(batch)[:, task]
        dv, de = torch.autograd.grad(out[:steps].sum(), (V, E))
    value = float(out[steps].detach())
    with torch.inference_mode():
        zero = BatchMolGraph([molgraph])
        zero.V, zero.E = torch.zeros_like(zero.V), torch.zeros_like(zero.E)
        baseline = float(model(zero)[0, task])
    v0, e0 = V0[:n_atoms], E0[:n_edges]
    gv = dv[: steps * n_atoms].reshape(steps, n_atoms, -1).sum(0) / steps
    ge = de[: steps * n_edges].reshape(steps, n_edges, -1).sum(0) / steps
    atoms = (v0 * gv).sum(dim=1)
    edges = (e0 * ge).sum(dim=1)
    src, dst = torch.as_tensor(molgraph.edge_index[0]), torch.as_tensor(molgraph.edge_index[1])
    atoms = atoms.index_add(0, src, edges / 2).index_add(0, dst, edges / 2)
    return atoms.detach().numpy().astype(float), value, baseline


def explain_endpoint(panel: Any, mol: Chem.Mol, target: str, steps: int = STEPS) -> dict[str, Any]:
    """Integrated-gradient atom contributions for one panel endpoint, with an SVG heatmap.

    Returns:
        ``target``, ``value`` (the ensemble's prediction, as the panel reports it), ``baseline``
        (prediction for the all-zero graph), ``atom_weights`` (contributions in the endpoint's
        units, summing to about ``value - baseline``), ``accounted`` (their sum over
        ``value - baseline``), ``units`` and ``svg`` (heatmap with the value and a colour scale).

    Raises:
        InputError: the panel has no such endpoint, or the molecule cannot be scored.
    """
    from theralab.discovery.admet.explain_view import heatmap_svg

    if target not in panel.tasks:
        raise InputError(f"the panel has no endpoint {target!r}", where="target", hint=", ".join(panel.tasks))
    reason = panel.check(mol)
    if reason:
        raise InputError(f"cannot explain this molecule: {reason}", where="smiles")
    group = next(g for g in panel.groups if target in g["tasks"])
    j = group["tasks"].index(target)
    molgraph = panel.featurizer(mol)
    runs = [_integrated_gradients(m, molgraph, j, steps) for m in panel._models[group["slice"]]]
    weights = np.mean([r[0] for r in runs], axis=0)[: mol.GetNumAtoms()]
    value, baseline = float(np.mean([r[1] for r in runs])), float(np.mean([r[2] for r in runs]))
    delta = value - baseline
    accounted = float(weights.sum() / delta) if abs(delta) > 1e-12 else 1.0
    units = "probability" if group["kind"] == "classification" else _units(target)
    svg = heatmap_svg(mol, weights, title=f"{target} = {value:.3g} ({units})",
                      note=f"atoms sum to {weights.sum():+.3g} = {accounted:.0%} of value - baseline "
                           f"({baseline:.3g})", units=units)
    return {"target": target, "method": "integrated gradients (atom + bond features, zero-graph baseline)",
            "value": value, "baseline": baseline, "atom_weights": weights.tolist(), "accounted": accounted,
            "units": units, "svg": svg}


def _units(target: str) -> str:
    from theralab.discovery.admet.endpoints import unit_of

    return unit_of(target)
