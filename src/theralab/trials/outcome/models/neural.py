"""A small neural model over the three modalities: drug, disease, protocol (eligibility + design).

Each modality has its own encoder (Linear -> ReLU -> Dropout) into a short vector; the three are
concatenated and a two-layer head gives the log-odds of success. This mirrors HINT's idea of
separate drug, disease and criteria embeddings, as MLPs over our feature blocks rather than a
graph network. Inputs are standardised with training means and deviations; missing values become
0 (the mean) and the blocks carry their own missing flags. Trained with Adam and BCE, early stopping
on an inner split; weights saved as a plain state dict (``torch.load(weights_only=True)``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from theralab.trials.outcome.features import MODALITIES, modality_of

HIDDEN = {"drug": 32, "disease": 16, "protocol": 16}


@dataclass
class Scaler:
    """Per-column mean and deviation (from training trials) for standardisation."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> Scaler:
        finite = np.where(np.isfinite(x), x, np.nan)
        with warnings.catch_warnings():  # all-missing columns (e.g. design factors TOP lacks) give NaN -> 0
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nan_to_num(np.nanmean(finite, axis=0))
            std = np.nan_to_num(np.nanstd(finite, axis=0))
        return cls(mean, np.where(std > 1e-9, std, 1.0))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        z = (x - self.mean) / self.std
        return np.clip(np.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0), -10, 10).astype(np.float32)


def block_index(columns: list[str]) -> dict[str, list[int]]:
    """Column positions of each modality."""
    return {m: [i for i, c in enumerate(columns) if modality_of(c) == m] for m in MODALITIES}


def build_net(sizes: dict[str, int], dropout: float = 0.3) -> Any:
    """The three-encoder network for blocks of the given widths."""
    import torch
    from torch import nn

    class ThreeModalityNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.enc = nn.ModuleDict({m: nn.Sequential(nn.Linear(sizes[m], HIDDEN[m]), nn.ReLU(), nn.Dropout(dropout))
                                      for m in MODALITIES})
            self.head = nn.Sequential(nn.Linear(sum(HIDDEN.values()), 16), nn.ReLU(), nn.Dropout(dropout),
                                      nn.Linear(16, 1))

        def forward(self, blocks: dict[str, torch.Tensor]) -> torch.Tensor:
            return self.head(torch.cat([self.enc[m](blocks[m]) for m in MODALITIES], dim=1)).squeeze(1)

    return ThreeModalityNet()


def _blocks(z: np.ndarray, idx: dict[str, list[int]]) -> dict[str, Any]:
    import torch

    return {m: torch.from_numpy(np.ascontiguousarray(z[:, cols])) for m, cols in idx.items()}


def fit_net(x: pd.DataFrame, y: np.ndarray, *, seed: int = 0, epochs: int = 80, lr: float = 1e-3,
            weight_decay: float = 1e-3, patience: int = 12) -> tuple[Any, Scaler]:
    """Train the network (early stopping on a 15% inner split); returns (net in eval mode, scaler)."""
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    raw = x.to_numpy(dtype=float)
    scaler = Scaler.fit(raw)
    z = scaler(raw)
    idx = block_index(list(x.columns))
    order = rng.permutation(len(y))
    n_val = max(2, int(0.15 * len(y)))
    val, tr = order[:n_val], order[n_val:]
    net = build_net({m: len(c) for m, c in idx.items()})
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    lossf = torch.nn.BCEWithLogitsLoss()
    yt = torch.tensor(np.asarray(y, dtype=np.float32))
    best, best_state, bad = float("inf"), None, 0
    vb = _blocks(z[val], idx)
    for _ in range(epochs):
        net.train()
        perm = rng.permutation(tr)
        for start in range(0, len(perm), 64):
            batch = perm[start:start + 64]
            opt.zero_grad()
            loss = lossf(net(_blocks(z[batch], idx)), yt[batch])
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            vloss = float(lossf(net(vb), yt[val]))
        if vloss < best - 1e-4:
            best, bad = vloss, 0
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        else:
            bad += 1
            if bad >= patience:
                break
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    return net, scaler


def predict_net(net: Any, scaler: Scaler, x: pd.DataFrame) -> np.ndarray:
    """Uncalibrated success probabilities from the network."""
    import torch

    z = scaler(x.to_numpy(dtype=float))
    with torch.no_grad():
        return torch.sigmoid(net(_blocks(z, block_index(list(x.columns))))).numpy().astype(float)


def oof_predict_net(x: pd.DataFrame, y: np.ndarray, *, folds: int = 5, seed: int = 0, epochs: int = 80) -> np.ndarray:
    """Out-of-fold raw probabilities of the network (for calibration)."""
    from sklearn.model_selection import StratifiedKFold

    out = np.zeros(len(y))
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        net, scaler = fit_net(x.iloc[tr], y[tr], seed=seed, epochs=epochs)
        out[te] = predict_net(net, scaler, x.iloc[te])
    return out
