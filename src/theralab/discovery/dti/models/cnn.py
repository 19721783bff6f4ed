"""DeepDTA-style model (Ozturk et al. 2018): 1D convolutions over SMILES and residue tokens.

Architecture as published: each side is an embedding, three Conv1d layers (``filters``,
``2 * filters``, ``3 * filters``; SMILES window 4, protein window 8 by default) and a global max
pool; the two vectors are concatenated and read by a 1024-1024-512 fully connected head with
dropout 0.1. The embedding width and protein length are parameters so a CPU run can be smaller
than the paper's (128-wide embeddings, 1,200 residues), and the card records which was used.

Encoders run once per unique drug and target in a batch (see ``theralab.discovery.dti.train``),
which is the same arithmetic as running them per pair but several times cheaper on Davis.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from theralab.discovery.dti.featurize import PROTEIN_VOCAB, SMILES_VOCAB, encode_protein, encode_smiles

CNN_DEFAULTS: dict[str, Any] = {"embed": 128, "filters": 32, "smiles_window": 4, "protein_window": 8,
                                "max_smiles": 100, "max_protein": 1200, "dropout": 0.1,
                                "head": [1024, 1024, 512]}


class ConvEncoder(nn.Module):
    """Embedding -> 3 x (Conv1d + ReLU) -> global max pool, as in DeepDTA."""

    def __init__(self, vocab: int, embed: int, filters: int, window: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab + 2, embed, padding_idx=0)
        self.convs = nn.Sequential(
            nn.Conv1d(embed, filters, window), nn.ReLU(),
            nn.Conv1d(filters, 2 * filters, window), nn.ReLU(),
            nn.Conv1d(2 * filters, 3 * filters, window), nn.ReLU(),
        )
        self.out_dim = 3 * filters

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """(batch, length) int tokens -> (batch, 3 * filters)."""
        return self.convs(self.embed(tokens).transpose(1, 2)).amax(dim=2)


def mlp_head(in_dim: int, dropout: float, widths: list[int] | tuple[int, ...] = (1024, 1024, 512)) -> nn.Sequential:
    """DeepDTA's 1024-1024-512-1 regression head (dropout after all but the last hidden layer).

    The widths are a parameter because on a CPU this per-pair head, not the encoders, dominates
    the cost of an epoch; a reduced run records the widths it used in the model card.
    """
    layers: list[nn.Module] = []
    dims = [in_dim, *widths]
    for k, (a, b) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
        layers += [nn.Linear(a, b), nn.ReLU()]
        if k < len(widths) - 1:
            layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(dims[-1], 1))
    return nn.Sequential(*layers)


class DeepDTA(nn.Module):
    """The reference CNN: SMILES encoder + protein encoder + FC head."""

    def __init__(self, **config: Any) -> None:
        super().__init__()
        c = {**CNN_DEFAULTS, **config}
        self.drug = ConvEncoder(len(SMILES_VOCAB), c["embed"], c["filters"], c["smiles_window"])
        self.target = ConvEncoder(len(PROTEIN_VOCAB), c["embed"], c["filters"], c["protein_window"])
        self.head = mlp_head(self.drug.out_dim + self.target.out_dim, c["dropout"], c["head"])

    def encode_drugs(self, batch: torch.Tensor) -> torch.Tensor:
        return self.drug(batch)

    def encode_targets(self, batch: torch.Tensor) -> torch.Tensor:
        return self.target(batch)

    def forward(self, hd: torch.Tensor, ht: torch.Tensor) -> torch.Tensor:
        """Per-pair drug and target vectors -> affinity."""
        return self.head(torch.cat([hd, ht], dim=1)).squeeze(1)


class CNNFeaturizer:
    """Integer tokens for every drug and target, gathered per batch."""

    def __init__(self, **config: Any) -> None:
        c = {**CNN_DEFAULTS, **config}
        self.max_smiles, self.max_protein = int(c["max_smiles"]), int(c["max_protein"])

    def drugs(self, smiles: list[str]) -> np.ndarray:
        return encode_smiles(smiles, self.max_smiles)

    def targets(self, sequences: list[str]) -> np.ndarray:
        return encode_protein(sequences, self.max_protein)

    def drug_batch(self, table: np.ndarray, ids: np.ndarray, device: str) -> torch.Tensor:
        return torch.from_numpy(table[ids]).to(device)

    def target_batch(self, table: np.ndarray, ids: np.ndarray, device: str) -> torch.Tensor:
        return torch.from_numpy(table[ids]).to(device)
