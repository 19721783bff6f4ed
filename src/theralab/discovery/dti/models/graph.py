"""Graph model (GraphDTA-GIN style, Nguyen et al. 2021): a GIN over RDKit graphs + protein encoder.

Drug side: GraphDTA's 78 atom features, five GIN layers (Xu et al. 2019:
``h' = MLP((1 + eps) h + sum_neighbours h)``, then ReLU and batch norm), sum pooling and a
linear projection to 128. Target side: the DeepDTA convolution over residues, the 420-column
1+2-mer composition through a small MLP, or both (``protein = "cnn" | "kmer" | "both"``): the
k-mer branch is cheap on CPU and defined for any sequence. Written in plain torch (``index_add_``
for message passing and pooling), so no torch-geometric build is needed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from theralab.discovery.dti.featurize import (
    ATOM_DIM,
    KMER_DIM,
    PROTEIN_VOCAB,
    MolGraph,
    encode_protein,
    kmer_composition,
    mol_graph,
)
from theralab.discovery.dti.models.cnn import ConvEncoder, mlp_head

GRAPH_DEFAULTS: dict[str, Any] = {"hidden": 32, "layers": 5, "out": 128, "protein": "both", "embed": 128,
                                  "filters": 32, "protein_window": 8, "max_protein": 1200, "dropout": 0.2,
                                  "head": [1024, 512]}


class GINLayer(nn.Module):
    """One graph isomorphism layer with a learnable epsilon."""

    def __init__(self, in_dim: int, hidden: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.eps = nn.Parameter(torch.zeros(1))
        self.norm = nn.BatchNorm1d(hidden)

    def forward(self, x: torch.Tensor, edges: torch.Tensor) -> torch.Tensor:
        agg = torch.zeros_like(x).index_add_(0, edges[1], x[edges[0]])
        return self.norm(torch.relu(self.mlp((1 + self.eps) * x + agg)))


class GINEncoder(nn.Module):
    """Stacked GIN layers, sum pooling per molecule, projection to ``out``."""

    def __init__(self, hidden: int, layers: int, out: int, dropout: float) -> None:
        super().__init__()
        dims = [ATOM_DIM] + [hidden] * layers
        self.layers = nn.ModuleList(GINLayer(a, b) for a, b in zip(dims[:-1], dims[1:], strict=True))
        self.proj = nn.Sequential(nn.Linear(hidden, out), nn.ReLU(), nn.Dropout(dropout))
        self.out_dim = out

    def forward(self, batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]) -> torch.Tensor:
        x, edges, member, n_graphs = batch
        for layer in self.layers:
            x = layer(x, edges)
        pooled = torch.zeros(n_graphs, x.shape[1], dtype=x.dtype, device=x.device).index_add_(0, member, x)
        return self.proj(pooled)


class KmerEncoder(nn.Module):
    """420 k-mer frequencies -> 128 through a two-layer MLP."""

    def __init__(self, out: int = 128) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(KMER_DIM, 256), nn.ReLU(), nn.Linear(256, out), nn.ReLU())
        self.out_dim = out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 20.0)  # frequencies are ~1/400; rescale to unit-ish inputs


class GraphDTA(nn.Module):
    """GIN drug encoder + CNN and/or k-mer target encoder + FC head."""

    def __init__(self, **config: Any) -> None:
        super().__init__()
        c = {**GRAPH_DEFAULTS, **config}
        self.protein = c["protein"]
        self.drug = GINEncoder(c["hidden"], c["layers"], c["out"], c["dropout"])
        t_dim = 0
        if self.protein in ("cnn", "both"):
            self.target_cnn = ConvEncoder(len(PROTEIN_VOCAB), c["embed"], c["filters"], c["protein_window"])
            t_dim += self.target_cnn.out_dim
        if self.protein in ("kmer", "both"):
            self.target_kmer = KmerEncoder()
            t_dim += self.target_kmer.out_dim
        self.head = mlp_head(self.drug.out_dim + t_dim, c["dropout"], c["head"])

    def encode_drugs(self, batch: Any) -> torch.Tensor:
        return self.drug(batch)

    def encode_targets(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        parts = []
        if self.protein in ("cnn", "both"):
            parts.append(self.target_cnn(batch["tokens"]))
        if self.protein in ("kmer", "both"):
            parts.append(self.target_kmer(batch["kmer"]))
        return torch.cat(parts, dim=1)

    def forward(self, hd: torch.Tensor, ht: torch.Tensor) -> torch.Tensor:
        return self.head(torch.cat([hd, ht], dim=1)).squeeze(1)


class GraphFeaturizer:
    """RDKit graphs per drug; residue tokens and k-mer frequencies per target."""

    def __init__(self, **config: Any) -> None:
        c = {**GRAPH_DEFAULTS, **config}
        self.max_protein = int(c["max_protein"])
        self.protein = c["protein"]

    def drugs(self, smiles: list[str]) -> list[MolGraph]:
        return [mol_graph(s) for s in smiles]

    def targets(self, sequences: list[str]) -> dict[str, np.ndarray]:
        table: dict[str, np.ndarray] = {}
        if self.protein in ("cnn", "both"):
            table["tokens"] = encode_protein(sequences, self.max_protein)
        if self.protein in ("kmer", "both"):
            table["kmer"] = kmer_composition(sequences)
        return table

    def drug_batch(self, table: list[MolGraph], ids: np.ndarray, device: str) -> tuple:
        xs, edges, member, offset = [], [], [], 0
        for k, i in enumerate(ids):
            g = table[int(i)]
            xs.append(g.x)
            edges.append(g.edges + offset)
            member.append(np.full(len(g.x), k, dtype=np.int64))
            offset += len(g.x)
        return (torch.from_numpy(np.concatenate(xs)).to(device),
                torch.from_numpy(np.concatenate(edges, axis=1)).to(device),
                torch.from_numpy(np.concatenate(member)).to(device), len(ids))

    def target_batch(self, table: dict[str, np.ndarray], ids: np.ndarray, device: str) -> dict[str, torch.Tensor]:
        return {k: torch.from_numpy(v[ids]).to(device) for k, v in table.items()}
