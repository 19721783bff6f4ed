"""Chemprop v2 D-MPNN training, prediction, safe saving and atom attributions.

We use the ``chemprop`` package (Heid et al., JCIM 2024) rather than re-implementing the D-MPNN:
its featuriser, message passing, aggregation and FFN heads are the reference ones, and its
defaults (bond message passing, depth 3, hidden 300, mean aggregation, Noam-like learning-rate
schedule, target standardisation) are the "Chemprop defaults" our benchmarks compare with.

Chemprop's own checkpoints pickle Python classes, which ``torch.load(weights_only=True)`` refuses.
We therefore save the ``state_dict`` (tensors only) plus a JSON config and rebuild the network on
load, so a model directory never needs unpickling.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rdkit import Chem

WEIGHTS = "chemprop.pt"
CONFIG = "chemprop.json"


def _quiet() -> None:
    for name in ("lightning", "lightning.pytorch", "pytorch_lightning", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="lightning")
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")


def build(config: dict[str, Any]) -> Any:
    """A Chemprop MPNN from our JSON config (untrained, or ready for ``load_state_dict``)."""
    import torch
    from chemprop import nn
    from chemprop.models import MPNN

    n_tasks = int(config["n_tasks"])
    mp = nn.BondMessagePassing(d_h=int(config["hidden"]), depth=int(config["depth"]), dropout=float(config["dropout"]))
    agg = nn.MeanAggregation()
    if config["task"] == "classification":
        ffn = nn.BinaryClassificationFFN(n_tasks=n_tasks, input_dim=mp.output_dim)
    else:
        transform = nn.UnscaleTransform(
            np.asarray(config.get("y_mean", [0.0] * n_tasks)), np.asarray(config.get("y_scale", [1.0] * n_tasks))
        )
        ffn = nn.RegressionFFN(n_tasks=n_tasks, input_dim=mp.output_dim, output_transform=transform)
    torch.manual_seed(int(config.get("seed", 0)))
    return MPNN(mp, agg, ffn, batch_norm=False)


def train(
    mols: Sequence[Chem.Mol],
    y: np.ndarray,
    task: str,
    *,
    epochs: int = 50,
    seed: int = 0,
    hidden: int = 300,
    depth: int = 3,
    dropout: float = 0.0,
    batch_size: int = 50,
) -> tuple[Any, dict[str, Any]]:
    """Train one D-MPNN on ``y`` (``n x tasks``, NaN = missing label, masked in the loss).

    Returns:
        ``(model, config)``; the config rebuilds the network with :func:`build`.
    """
    import torch
    from chemprop import data
    from lightning import pytorch as pl

    _quiet()
    y = np.asarray(y, dtype=float).reshape(len(mols), -1)
    config: dict[str, Any] = {
        "task": task,
        "n_tasks": int(y.shape[1]),
        "hidden": hidden,
        "depth": depth,
        "dropout": dropout,
        "epochs": epochs,
        "seed": seed,
        "batch_size": batch_size,
    }
    if task == "regression":
        mean = np.nanmean(y, axis=0)
        scale = np.nanstd(y, axis=0)
        scale[~(scale > 0)] = 1.0
        config["y_mean"], config["y_scale"] = mean.tolist(), scale.tolist()
        y_fit = (y - mean) / scale
    else:
        y_fit = y
    pl.seed_everything(seed, workers=True, verbose=False)
    model = build(config)
    dset = data.MoleculeDataset([data.MoleculeDatapoint(mol=m, y=row) for m, row in zip(mols, y_fit, strict=True)])
    loader = data.build_dataloader(dset, batch_size=batch_size, num_workers=0, seed=seed, shuffle=True)
    trainer = pl.Trainer(
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        accelerator="cpu",
        devices=1,
        max_epochs=epochs,
        enable_model_summary=False,
        deterministic=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.fit(model, loader)
    model.eval()
    torch.set_grad_enabled(True)
    return model, config


def predict(model: Any, mols: Sequence[Chem.Mol], batch_size: int = 500) -> np.ndarray:
    """Predictions (probabilities for classification) as ``n x tasks``."""
    import torch
    from chemprop.data import BatchMolGraph
    from chemprop.featurizers import SimpleMoleculeMolGraphFeaturizer

    feat = SimpleMoleculeMolGraphFeaturizer()
    model.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(mols), batch_size):
            bmg = BatchMolGraph([feat(m) for m in mols[start : start + batch_size]])
            out.append(model(bmg).numpy().astype(float))
    n_tasks = model.predictor.n_tasks
    return np.vstack(out) if out else np.zeros((0, n_tasks))


def atom_attributions(model: Any, mol: Chem.Mol, task: int = 0) -> np.ndarray:
    """Gradient x input on the atom features, summed per atom, for one molecule and task."""
    import torch
    from chemprop.data import BatchMolGraph
    from chemprop.featurizers import SimpleMoleculeMolGraphFeaturizer

    from theralab.models.explain import gradient_x_input

    model.eval()
    bmg = BatchMolGraph([SimpleMoleculeMolGraphFeaturizer()(mol)])
    with torch.enable_grad():
        V = bmg.V.clone().requires_grad_(True)
        bmg.V = V
        out = model(bmg)[0, task]
        (grad,) = torch.autograd.grad(out, V)
    return gradient_x_input(V.detach().numpy(), grad.numpy())[: mol.GetNumAtoms()]


def save(model: Any, config: dict[str, Any], model_dir: Path, prefix: str = "") -> list[str]:
    """Write ``<prefix>chemprop.pt`` (state_dict only) and ``<prefix>chemprop.json``; returns the names."""
    import torch

    torch.save(dict(model.state_dict().items()), Path(model_dir) / (prefix + WEIGHTS))
    (Path(model_dir) / (prefix + CONFIG)).write_text(json.dumps(config, indent=2))
    return [prefix + WEIGHTS, prefix + CONFIG]


def load(model_dir: Path, prefix: str = "") -> Any:
    """Rebuild and load a saved D-MPNN with ``torch.load(weights_only=True)``."""
    import torch

    config = json.loads((Path(model_dir) / (prefix + CONFIG)).read_text())
    model = build(config)
    state = torch.load(Path(model_dir) / (prefix + WEIGHTS), map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    model.eval()
    return model
