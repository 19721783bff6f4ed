"""The pretrained ADMET panel: ADMET-AI 2.0.1's 41 TDC endpoints, computed faster and row by row.

ADMET-AI (Swanson et al., Bioinformatics 2024; MIT) ships two Chemprop v2 ensembles of five D-MPNNs
each (31 classification and 10 regression TDC endpoints) plus 11 RDKit physico-chemical
properties, and reports every value with its percentile among 2,845 DrugBank approved drugs.
Its ``ADMETModel.predict`` featurises every molecule once per model (10 times), runs each model
through a Lightning ``Trainer`` and computes percentiles with one ``scipy`` call per value.

This module keeps the same checkpoints and the same arithmetic but changes the inference path:

* each molecule is featurised once (Chemprop's own ``SimpleMoleculeMolGraphFeaturizer``, so the
  graph is bit-for-bit the one ADMET-AI builds) and the batch graph is shared by all ten models;
* the ten D-MPNNs have the same shapes (depth 3, hidden 300, norm aggregation), so their weights
  are stacked and the message passing runs once on a ``[models, bonds, hidden]`` tensor with
  batched matrix products, instead of ten passes;
* percentiles use ``searchsorted`` on the pre-sorted DrugBank columns, which is exactly scipy's
  ``percentileofscore(kind="rank")``: ``(n_less + n_less_equal + [tie]) * 50 / n``.

Rows that cannot be scored keep their place with a reason (unparseable, no atoms, larger than
``max_heavy_atoms``) instead of being dropped silently as ADMET-AI does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rdkit import Chem

from theralab.errors import InputError, ModelError

PHYSCHEM = (
    "molecular_weight",
    "logP",
    "hydrogen_bond_acceptors",
    "hydrogen_bond_donors",
    "Lipinski",
    "QED",
    "stereo_centers",
    "tpsa",
    "PAINS_alert",
    "BRENK_alert",
    "NIH_alert",
)
PERCENTILE_SUFFIX = "drugbank_approved_percentile"
MAX_HEAVY_ATOMS = 200
ADMET_AI_VERSION = "2.0.1"


def admet_ai_resources() -> Path:
    """The ``resources`` folder of the installed ``admet-ai`` wheel (checkpoints and DrugBank set)."""
    try:
        import admet_ai
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ModelError(
            "the ADMET panel needs the 'admet-ai' package",
            hint="pip install admet-ai==2.0.1 (its checkpoints ship in the wheel)",
        ) from exc
    version = getattr(admet_ai, "__version__", ADMET_AI_VERSION)
    if version != ADMET_AI_VERSION:
        raise ModelError(
            f"admet-ai {version} is installed; the panel was validated against {ADMET_AI_VERSION}",
            hint=f"pip install admet-ai=={ADMET_AI_VERSION}",
        )
    return Path(admet_ai.__file__).resolve().parent / "resources"


def physchem_row(mol: Chem.Mol) -> list[float]:
    """ADMET-AI's 11 physico-chemical properties, in its order, with each descriptor computed once.

    ADMET-AI's ``lipinski_rule_of_five`` recomputes weight, logP, HBA and HBD; reusing them gives the
    same numbers (the same RDKit functions) for less work. The alert counts use ADMET-AI's own
    PAINS/Brenk/NIH catalogues.
    """
    from admet_ai import physchem as ap

    mw = ap.MolWt(mol)
    logp = ap.MolLogP(mol)
    hba = ap.CalcNumHBA(mol)
    hbd = ap.CalcNumHBD(mol)
    lipinski = float(sum([mw <= 500, logp <= 5, hba <= 10, hbd <= 5]))
    return [
        float(mw),
        float(logp),
        float(hba),
        float(hbd),
        lipinski,
        float(ap.qed(mol)),
        float(ap.CalcNumAtomStereoCenters(mol)),
        float(ap.CalcTPSA(mol)),
        float(len(ap.catalog_pains.GetMatches(mol))),
        float(len(ap.catalog_brenk.GetMatches(mol))),
        float(len(ap.catalog_nih.GetMatches(mol))),
    ]


@dataclass
class _Stack:
    """The stacked weights of K identical-shape D-MPNNs (one slice per model)."""

    W_i: Any  # [K, d_v+d_e, d_h]
    W_h: Any  # [K, d_h, d_h]
    W_oV: Any  # [K, d_v, d_h]
    W_oM: Any  # [K, d_h, d_h]
    b_o: Any  # [K, 1, d_h]
    W_1: Any  # [K, d_h, d_f]
    b_1: Any  # [K, 1, d_f]
    depth: int
    norm: float


class AdmetPanel:
    """ADMET-AI's panel with a shared-featurisation, stacked-ensemble inference path.

    Args:
        batch_size: molecules per forward pass; larger batches amortise Python overhead.
        max_heavy_atoms: molecules above this are refused with a reason (the D-MPNNs were trained on
            drug-like molecules and a 1,000-atom polymer would dominate memory).
        percentiles: add the DrugBank-approved percentile of every value.
        exact: reproduce Chemprop's float32 arithmetic bit for bit (default); ``False`` trades that
            for batched matrix products (about 1e-5 relative difference, faster).
    """

    def __init__(self, batch_size: int = 500, max_heavy_atoms: int = MAX_HEAVY_ATOMS, percentiles: bool = True,
                 exact: bool = True):
        import torch
        from chemprop.featurizers import SimpleMoleculeMolGraphFeaturizer
        from chemprop.models import MPNN
        from chemprop.nn.agg import NormAggregation
        from chemprop.nn.message_passing import BondMessagePassing
        from chemprop.nn.predictors import BinaryClassificationFFN, RegressionFFN

        self.batch_size = int(batch_size)
        self.max_heavy_atoms = int(max_heavy_atoms)
        self.percentiles = percentiles
        self.exact = exact
        self.featurizer = SimpleMoleculeMolGraphFeaturizer()
        resources = admet_ai_resources()
        self.groups: list[dict[str, Any]] = []
        models = []
        for folder in sorted((resources / "models").iterdir()):
            paths = sorted(folder.glob("*.pt"))
            if not paths:
                continue
            group_models = []
            for path in paths:
                # The wheel's checkpoints store hyper-parameters as pickled classes, so torch.load must
                # unpickle them; they come from the pinned, installed admet-ai wheel, not from users.
                ckpt = torch.load(path, map_location="cpu", weights_only=False)
                model = MPNN.load_from_file(path, map_location="cpu")
                model.eval()
                mp, agg, pred = model.message_passing, model.agg, model.predictor
                if not (
                    isinstance(mp, BondMessagePassing)
                    and isinstance(agg, NormAggregation)
                    and isinstance(model.bn, torch.nn.Identity)
                    and isinstance(pred, BinaryClassificationFFN | RegressionFFN)
                    and mp.W_d is None
                    and len(pred.ffn) == 2
                ):
                    raise ModelError(
                        f"unexpected architecture in {path}; the fused path only covers ADMET-AI 2.0.1's bond D-MPNNs",
                        where=str(path),
                    )
                group_models.append(model)
                tasks = ckpt.get("output_columns")
            kind = "classification" if isinstance(group_models[0].predictor, BinaryClassificationFFN) else "regression"
            start = len(models)
            models.extend(group_models)
            last = [m.predictor.ffn[1][2] for m in group_models]
            transform = group_models[0].predictor.output_transform
            scale = [getattr(m.predictor.output_transform, "scale", None) for m in group_models]
            mean = [getattr(m.predictor.output_transform, "mean", None) for m in group_models]
            self.groups.append(
                {
                    "kind": kind,
                    "tasks": list(tasks),
                    "slice": slice(start, len(models)),
                    "W_2": torch.stack([lin.weight.detach().T for lin in last]),
                    "b_2": torch.stack([lin.bias.detach()[None, :] for lin in last]),
                    "scale": None
                    if isinstance(transform, torch.nn.Identity)
                    else torch.stack([s.reshape(1, -1) for s in scale]),
                    "mean": None
                    if isinstance(transform, torch.nn.Identity)
                    else torch.stack([m.reshape(1, -1) for m in mean]),
                }
            )
        if not models:
            raise ModelError("no ADMET-AI checkpoints found", where=str(resources / "models"))
        depths = {m.message_passing.depth for m in models}
        norms = {m.agg.norm for m in models}
        if len(depths) != 1 or len(norms) != 1:
            raise ModelError("the ADMET-AI models differ in depth or aggregation; cannot stack them")
        d_v = models[0].message_passing.W_o.in_features - models[0].message_passing.W_o.out_features
        self._stack = _Stack(
            W_i=torch.stack([m.message_passing.W_i.weight.detach().T for m in models]).contiguous(),
            W_h=torch.stack([m.message_passing.W_h.weight.detach().T for m in models]).contiguous(),
            W_oV=torch.stack([m.message_passing.W_o.weight.detach()[:, :d_v].T for m in models]).contiguous(),
            W_oM=torch.stack([m.message_passing.W_o.weight.detach()[:, d_v:].T for m in models]).contiguous(),
            b_o=torch.stack([m.message_passing.W_o.bias.detach()[None, :] for m in models]),
            W_1=torch.stack([m.predictor.ffn[0][0].weight.detach().T for m in models]).contiguous(),
            b_1=torch.stack([m.predictor.ffn[0][0].bias.detach()[None, :] for m in models]),
            depth=depths.pop(),
            norm=float(norms.pop()),
        )
        self._linear = {
            "W_i": [m.message_passing.W_i.weight.detach() for m in models],
            "W_h": [m.message_passing.W_h.weight.detach() for m in models],
            "W_o": [m.message_passing.W_o.weight.detach() for m in models],
            "b_o": [m.message_passing.W_o.bias.detach() for m in models],
            "W_1": [m.predictor.ffn[0][0].weight.detach() for m in models],
            "b_1": [m.predictor.ffn[0][0].bias.detach() for m in models],
            "W_2": [m.predictor.ffn[1][2].weight.detach() for m in models],
            "b_2": [m.predictor.ffn[1][2].bias.detach() for m in models],
        }
        self._models = models
        self.tasks = [t for g in self.groups for t in g["tasks"]]
        self.columns = list(PHYSCHEM) + self.tasks
        self.reference_path = resources / "data" / "drugbank_approved.csv"
        self._reference = _drugbank_reference(str(self.reference_path), tuple(self.columns))

    # ------------------------------------------------------------------ featurisation
    def check(self, mol: Chem.Mol | None) -> str | None:
        """Why a molecule cannot be scored, or None when it can."""
        if mol is None:
            return "not a molecule"
        heavy = mol.GetNumHeavyAtoms()
        if mol.GetNumAtoms() == 0:
            return "molecule has no atoms"
        if heavy > self.max_heavy_atoms:
            return f"molecule has {heavy} heavy atoms; the panel accepts at most {self.max_heavy_atoms}"
        return None

    def featurize(self, mols: Sequence[Chem.Mol]) -> Any:
        """One Chemprop batch graph for the molecules (each molecule featurised exactly once)."""
        from chemprop.data import BatchMolGraph

        return BatchMolGraph([self.featurizer(m) for m in mols])

    # ------------------------------------------------------------------ inference
    def _forward(self, bmg: Any) -> dict[str, np.ndarray]:
        """All ten D-MPNNs on one batch graph: ``{task: ensemble-mean prediction}``.

        Gathers, scatters and activations run once on ``[models, bonds, hidden]`` tensors. In
        ``exact`` mode (default) each model's matrix products are the same ``mm``/``addmm`` calls
        on the same weight layout that Chemprop's ``nn.Linear`` makes, and the sums use the same
        ``scatter_reduce``, so results are bit-identical to ADMET-AI's (float32 summation order
        is part of the result). ``exact=False`` uses one batched ``bmm`` per layer instead: faster,
        equal to about 1e-5 relative.
        """
        import torch
        import torch.nn.functional as F

        s = self._stack
        V, E = bmg.V, bmg.E
        src, dst = bmg.edge_index[0], bmg.edge_index[1]
        rev = bmg.rev_edge_index
        K, _, d_h = s.W_h.shape
        n_v, n_e = V.shape[0], E.shape[0]
        n_mol = int(bmg.batch.max()) + 1 if len(bmg.batch) else 0

        def scatter_sum(H: Any, index: Any, n: int) -> Any:
            expanded = index.view(1, -1, 1).expand(K, -1, H.shape[2])
            return torch.zeros(K, n, H.shape[2]).scatter_reduce_(1, expanded, H, reduce="sum", include_self=False)

        with torch.inference_mode():
            X = torch.cat([V[src], E], dim=1)
            if self.exact:
                W = self._linear
                H0 = torch.empty(K, n_e, d_h)
                for k in range(K):
                    torch.mm(X, W["W_i"][k].t(), out=H0[k])
            else:
                H0 = torch.matmul(X.unsqueeze(0), s.W_i)
            H = torch.relu(H0)
            buf = torch.empty(K, n_e, d_h)
            for _ in range(1, s.depth):
                M = scatter_sum(H, dst, n_v)[:, src] - H[:, rev]
                if self.exact:
                    for k in range(K):
                        torch.mm(M[k], W["W_h"][k].t(), out=buf[k])
                else:
                    torch.bmm(M, s.W_h, out=buf)
                H = torch.relu(H0 + buf)
            M_v = scatter_sum(H, dst, n_v)
            if self.exact:
                Hv = torch.empty(K, n_v, d_h)
                for k in range(K):
                    Hv[k] = F.linear(torch.cat([V, M_v[k]], dim=1), W["W_o"][k], W["b_o"][k])
                Hv = torch.relu(Hv)
            else:
                Hv = torch.relu(torch.matmul(V.unsqueeze(0), s.W_oV) + torch.bmm(M_v, s.W_oM) + s.b_o)
            G = scatter_sum(Hv, bmg.batch, n_mol) / s.norm
            out: dict[str, np.ndarray] = {}
            for g in self.groups:
                ks = range(g["slice"].start, g["slice"].stop)
                if self.exact:
                    Y = torch.stack([F.linear(torch.relu(F.linear(G[k], W["W_1"][k], W["b_1"][k])),
                                              W["W_2"][k], W["b_2"][k]) for k in ks])
                else:
                    F1 = torch.relu(torch.bmm(G[g["slice"]], s.W_1[g["slice"]]) + s.b_1[g["slice"]])
                    Y = torch.bmm(F1, g["W_2"]) + g["b_2"]
                if g["kind"] == "classification":
                    Y = torch.sigmoid(Y)
                elif g["scale"] is not None:
                    Y = Y * g["scale"] + g["mean"]
                mean = Y.mean(dim=0).numpy()
                for j, task in enumerate(g["tasks"]):
                    out[task] = mean[:, j]
        return out

    def predict_mols(self, mols: Sequence[Chem.Mol | None]) -> tuple[pd.DataFrame, list[str | None]]:
        """Predict every endpoint for parsed molecules.

        Returns:
            ``(table, reasons)``: one row per input molecule (NaN where it could not be scored) and,
            per row, the reason it was not scored or None. Callers must surface the reasons; the
            NaNs are never silent.
        """
        reasons = [self.check(m) for m in mols]
        ok = [i for i, r in enumerate(reasons) if r is None]
        table = pd.DataFrame(np.nan, index=range(len(mols)), columns=self.columns, dtype=float)
        for start in range(0, len(ok), self.batch_size):
            idx = ok[start : start + self.batch_size]
            batch = [mols[i] for i in idx]
            phys = np.array([physchem_row(m) for m in batch], dtype=float)
            preds = self._forward(self.featurize(batch))
            block = np.column_stack([phys] + [preds[t].astype(float) for t in self.tasks])
            table.iloc[idx, :] = block
        if self.percentiles:
            table = pd.concat([table, self.percentile_table(table)], axis=1)
        return table, reasons

    def predict_smiles(self, smiles: Sequence[str]) -> pd.DataFrame:
        """Predict from SMILES; adds ``smiles`` and ``error`` columns (error is empty when scored)."""
        from theralab.chem.io import parse_smiles

        mols, errors = [], []
        for text in smiles:
            mol, err = parse_smiles(str(text)) if isinstance(text, str) else (None, "missing SMILES")
            mols.append(mol)
            errors.append(err)
        table, reasons = self.predict_mols(mols)
        table.insert(0, "smiles", list(smiles))
        table.insert(1, "error", [e or r or "" for e, r in zip(errors, reasons, strict=True)])
        return table

    def explain(self, mol: Chem.Mol, task: str) -> np.ndarray:
        """Per-atom gradient x input for one endpoint, averaged over its five D-MPNNs."""
        from theralab.discovery.admet_chemprop import atom_attributions

        for g in self.groups:
            if task in g["tasks"]:
                j = g["tasks"].index(task)
                models = self._models[g["slice"]]
                return np.mean([atom_attributions(m, mol, j) for m in models], axis=0)
        raise InputError(f"the panel has no endpoint {task!r}", where="task", hint=", ".join(self.tasks))

    def percentile_table(self, table: pd.DataFrame) -> pd.DataFrame:
        """Percentile of each value among DrugBank approved drugs (scipy's ``kind='rank'``, vectorised)."""
        cols = {}
        for name in self.columns:
            ref = self._reference[name]
            values = table[name].to_numpy(dtype=float)
            left = np.searchsorted(ref, values, side="left")
            right = np.searchsorted(ref, values, side="right")
            pct = (left + right + (left < right)) * (50.0 / len(ref))
            pct = np.where(np.isnan(values), np.nan, pct)
            cols[f"{name}_{PERCENTILE_SUFFIX}"] = pct
        return pd.DataFrame(cols, index=table.index)


@lru_cache(maxsize=4)
def _drugbank_reference(path: str, columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Sorted DrugBank-approved values per column (read once per process)."""
    frame = pd.read_csv(path)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ModelError(f"DrugBank reference lacks columns {missing}", where=path)
    return {c: np.sort(frame[c].to_numpy(dtype=float)) for c in columns}


@lru_cache(maxsize=2)
def get_panel(batch_size: int = 500, exact: bool = True) -> AdmetPanel:
    """A process-wide panel (loading ten checkpoints takes seconds; do it once per worker)."""
    return AdmetPanel(batch_size=batch_size, exact=exact)


def endpoint_info() -> pd.DataFrame:
    """ADMET-AI's description of each endpoint (category, name, units, task type)."""
    frame = pd.read_csv(admet_ai_resources() / "data" / "admet.csv")
    return frame
