"""The pretrained ADMET panel: ADMET-AI 2.0.1's 41 TDC endpoints, computed faster and row by row.

ADMET-AI (Swanson et al., Bioinformatics 2024; MIT) ships two Chemprop v2 ensembles of five D-MPNNs
each (31 classification and 10 regression TDC endpoints) plus 11 RDKit physico-chemical
properties, and reports every value with its percentile among 2,845 DrugBank approved drugs.
Its ``ADMETModel.predict`` featurises every molecule once per model (10 times), runs each model
through a Lightning ``Trainer`` and computes percentiles with one ``scipy`` call per value.

This module keeps the same checkpoints and the same arithmetic but changes the inference path:

* each molecule is featurised once (Chemprop's own ``SimpleMoleculeMolGraphFeaturizer``, so the
  graph is bit-for-bit the one ADMET-AI builds) and the batch graph is shared by all ten models;
* the ten D-MPNNs run one after the other on that shared graph, with the float32 products
  Chemprop's modules make and less memory traffic around them (bit-identical to ADMET-AI on the
  2,000 benchmark molecules at its batch size of 64; smaller batches are not: 1.5e-5 at 16);
* the RDKit half (parsing, featurisation, physico-chemical block) runs in a forked child process
  that feeds the forwards batch by batch (``admet_feed``), so the two halves share no GIL; small
  calls and threaded servers use worker threads instead;
* the structural-alert counts (PAINS, Brenk, NIH and QED's alerts, ~880 substructure matches per
  molecule) are screened with pattern fingerprints and element counts first (``admet_physchem``,
  ``theralab.chem.alert_screen``), with identical counts;
* percentiles use ``searchsorted`` on the pre-sorted DrugBank columns, which is exactly scipy's
  ``percentileofscore(kind="rank")``: ``(n_less + n_less_equal + [tie]) * 50 / n``.

Rows that cannot be scored keep their place with a reason (unparseable, no atoms, larger than
``max_heavy_atoms``) instead of being dropped silently as ADMET-AI does.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rdkit import Chem

from theralab.discovery.admet.feed import ForkedFeeder, Graph, can_fork, graph_arrays
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
ADMET_AI_BATCH = 64  # Chemprop's build_dataloader default, which ADMETModel.predict uses
ADMET_AI_VERSION = "2.0.1"
FORK_MIN = 128  # molecules; below this the RDKit half runs in a thread of this process


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


class AdmetPanel:
    """ADMET-AI's panel with a shared-featurisation, overlapped inference path equal to ADMET-AI's.

    Args:
        batch_size: molecules per forward pass; larger batches amortise Python overhead.
        max_heavy_atoms: molecules above this are refused with a reason (the D-MPNNs were trained on
            drug-like molecules and a 1,000-atom polymer would dominate memory).
        percentiles: add the DrugBank-approved percentile of every value.
        overlap: run the D-MPNNs and the RDKit work (featurisation, physico-chemical block) at the
            same time so both cores work: in a forked child process for calls of at least
            ``fork_min`` molecules (no GIL shared, see ``admet_feed``), else in worker threads;
            ``False`` runs everything in the caller's thread.
        fork_min: smallest call that is worth a fork (a few milliseconds).
    """

    def __init__(
        self,
        batch_size: int = ADMET_AI_BATCH,
        max_heavy_atoms: int = MAX_HEAVY_ATOMS,
        percentiles: bool = True,
        overlap: bool = True,
        fork_min: int = FORK_MIN,
    ):
        import torch
        from chemprop.featurizers import SimpleMoleculeMolGraphFeaturizer
        from chemprop.models import MPNN
        from chemprop.nn.agg import NormAggregation
        from chemprop.nn.message_passing import BondMessagePassing
        from chemprop.nn.predictors import BinaryClassificationFFN, RegressionFFN

        self.batch_size = int(batch_size)
        self.max_heavy_atoms = int(max_heavy_atoms)
        self.percentiles = percentiles
        self.overlap = overlap
        self.fork_min = int(fork_min)
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
            transform = group_models[0].predictor.output_transform
            self.groups.append(
                {
                    "kind": kind,
                    "tasks": list(tasks),
                    "slice": slice(start, len(models)),
                    "scale": None
                    if isinstance(transform, torch.nn.Identity)
                    else torch.stack([m.predictor.output_transform.scale.reshape(1, -1) for m in group_models]),
                    "mean": None
                    if isinstance(transform, torch.nn.Identity)
                    else torch.stack([m.predictor.output_transform.mean.reshape(1, -1) for m in group_models]),
                }
            )
        if not models:
            raise ModelError("no ADMET-AI checkpoints found", where=str(resources / "models"))
        if len({m.message_passing.depth for m in models}) != 1 or len({m.agg.norm for m in models}) != 1:
            raise ModelError("the ADMET-AI models differ in depth or aggregation; cannot share one batch graph")
        self._depth = models[0].message_passing.depth
        self._norm = float(models[0].agg.norm)
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

    def featurize(self, mols: Sequence[Chem.Mol]) -> Graph:
        """One batch graph for the molecules (each molecule featurised exactly once, Chemprop's featuriser)."""
        return Graph.from_arrays(graph_arrays(self.featurizer, mols))

    # ------------------------------------------------------------------ inference
    def _forward(self, bmg: Any, workers: Any = None) -> dict[str, np.ndarray]:
        """All ten D-MPNNs on one shared batch graph: ``{task: ensemble-mean prediction}``.

        Each model makes the same ``mm``/``linear`` products on the same weight layout that
        Chemprop's modules make, so with ADMET-AI's batch size (64) the results equal its own (0.0
        difference on the 2,000 benchmark molecules; 1e-5 is what the tests require). What changes
        is the data flow: the graph and its concatenated edge inputs are built once for all ten
        models (by the RDKit side), and the models run one after the other on cache-sized tensors.
        (An earlier version stacked the ten models into ``[models, bonds, hidden]`` tensors for
        batched products; those tensors fell out of cache and it was 2.8x slower.) With ``workers``
        (a thread pool), the models are shared out to its threads and this returns a callable that
        waits for them and applies the heads.
        """
        import torch

        with torch.inference_mode():
            n_e = bmg.rev_edge_index.shape[0]
            paired = n_e % 2 == 0 and bool((bmg.rev_edge_index == (torch.arange(n_e) ^ 1)).all())
            inputs = (bmg.X, bmg, paired)
        if workers is None:
            return self._heads([self._model(k, inputs) for k in range(len(self._models))])
        futures = [workers.submit(self._model, k, inputs) for k in range(len(self._models))]
        return lambda: self._heads([f.result() for f in futures])

    def _model(self, k: int, inputs: tuple[Any, Any, bool]) -> Any:
        """Message passing and readout of model ``k``: the pooled molecule vectors.

        The arithmetic of Chemprop's ``BondMessagePassing`` with less memory traffic, which is
        about a third of the forward's time next to the matrix products: the reverse-edge gather
        ``H[rev]`` becomes two strided subtractions where, as Chemprop builds its graphs, the
        reverse of edge ``2i`` is ``2i + 1`` (checked per batch, else the gather); sums over edges
        use ``index_add_``; gathers write into a reused buffer. Each value is still the same float32
        sum of the same terms (bit-identical to the reference on the benchmark molecules).
        """
        import torch
        import torch.nn.functional as F

        W = self._linear
        X, bmg, paired = inputs
        V, src, dst, rev = bmg.V, bmg.edge_index[0], bmg.edge_index[1], bmg.rev_edge_index
        n_mol = int(bmg.batch[-1]) + 1 if len(bmg.batch) else 0
        d_h = W["W_h"][k].shape[0]

        with torch.inference_mode():
            H0 = torch.mm(X, W["W_i"][k].t())
            H = torch.relu(H0)
            M, T = torch.empty_like(H0), torch.empty_like(H0)
            A = torch.empty(V.shape[0], d_h)
            for _ in range(1, self._depth):
                A.zero_().index_add_(0, dst, H)
                torch.index_select(A, 0, src, out=M)
                if paired:  # M[2i] -= H[2i + 1]; M[2i + 1] -= H[2i]
                    M2, H2 = M.view(-1, 2, d_h), H.view(-1, 2, d_h)
                    M2[:, 0].sub_(H2[:, 1])
                    M2[:, 1].sub_(H2[:, 0])
                else:
                    M.sub_(H.index_select(0, rev))
                torch.mm(M, W["W_h"][k].t(), out=T)
                torch.add(H0, T, out=H).relu_()
            A.zero_().index_add_(0, dst, H)
            Hv = F.linear(torch.cat([V, A], dim=1), W["W_o"][k], W["b_o"][k]).relu_()
            G = torch.zeros(n_mol, d_h).index_add_(0, bmg.batch, Hv)
            return G.div_(self._norm)

    def _heads(self, pooled: list[Any]) -> dict[str, np.ndarray]:
        """Feed-forward heads, output transforms and the ensemble mean per task group."""
        import torch
        import torch.nn.functional as F

        W = self._linear
        out: dict[str, np.ndarray] = {}
        with torch.inference_mode():
            for g in self.groups:
                ks = range(g["slice"].start, g["slice"].stop)
                Y = torch.stack(
                    [
                        F.linear(torch.relu(F.linear(pooled[k], W["W_1"][k], W["b_1"][k])), W["W_2"][k], W["b_2"][k])
                        for k in ks
                    ]
                )
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
        mols = list(mols)
        table, _, reasons = self._predict(lambda: (mols, [None] * len(mols)), len(mols))
        return table, reasons

    def predict_smiles(self, smiles: Sequence[str]) -> pd.DataFrame:
        """Predict from SMILES; adds ``smiles`` and ``error`` columns (error is empty when scored).

        With the forked RDKit worker, the SMILES are parsed there too: this process only runs the
        D-MPNNs, the half of the work that is left to it.
        """
        smiles = list(smiles)
        table, errors, reasons = self._predict(lambda: _parse_all(smiles), len(smiles))
        table.insert(0, "smiles", smiles)
        table.insert(1, "error", [e or r or "" for e, r in zip(errors, reasons, strict=True)])
        return table

    def _predict(self, source: Any, n: int) -> tuple[pd.DataFrame, list[str | None], list[str | None]]:
        """``source() -> (mols, parse errors)`` runs in the forked child when the call forks, else here."""
        if self.overlap and n >= self.fork_min and (os.cpu_count() or 1) > 1 and can_fork():
            table, errors, reasons = self._run_forked(source, n)
        else:
            mols, errors = source()
            reasons = [self.check(m) for m in mols]
            table = pd.DataFrame(np.nan, index=range(n), columns=self.columns, dtype=float)
            self._run_threads(mols, self._batches(reasons), table)
        if self.percentiles:
            table = pd.concat([table, self.percentile_table(table)], axis=1)
        return table, errors, reasons

    def _batches(self, reasons: list[str | None]) -> list[list[int]]:
        ok = [i for i, r in enumerate(reasons) if r is None]
        return [ok[start : start + self.batch_size] for start in range(0, len(ok), self.batch_size)]

    def _fill(self, table: pd.DataFrame, idx: list[int], phys: np.ndarray, preds: dict[str, np.ndarray]) -> None:
        table.iloc[idx, :] = np.column_stack([phys] + [preds[t].astype(float) for t in self.tasks])

    def _run_forked(self, source: Any, n: int) -> tuple[pd.DataFrame, list[str | None], list[str | None]]:
        """The D-MPNNs here, the RDKit half (parsing included) in a forked child (``admet_feed``).

        No GIL is shared. torch runs single-threaded in this process while the child works, since
        the child has the other core (OpenMP threads that wait for a busy core spin: we measured 7x
        the CPU time on a loaded machine with two intra-op threads); once the child has sent
        everything, the last forwards get the caller's thread count back (``--threads 1`` in the
        benchmark keeps one).
        """
        import torch

        from theralab.chem.alert_screen import qed_alert_screen
        from theralab.discovery.admet.physchem import alert_screens, physchem_table

        def plan() -> tuple[list[Chem.Mol | None], list[list[int]], Any]:  # runs in the child
            mols, errors = source()
            reasons = [self.check(m) for m in mols]
            return mols, self._batches(reasons), (errors, reasons)

        alert_screens(), qed_alert_screen()  # built once here, so every child inherits them
        table = pd.DataFrame(np.nan, index=range(n), columns=self.columns, dtype=float)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with ForkedFeeder(self.featurizer, plan, physchem_table) as feed:
                errors, reasons = feed.header()
                for k, idx in enumerate(self._batches(reasons)):
                    if feed.done.is_set() and torch.get_num_threads() != threads:
                        torch.set_num_threads(threads)  # the child is done: its core is ours for the tail
                    preds = self._forward(feed.graph(k))
                    self._fill(table, idx, feed.physchem(k), preds)
        finally:
            torch.set_num_threads(threads)
        return table, errors, reasons

    def _run_threads(self, mols: Sequence[Chem.Mol], batches: list[list[int]], table: pd.DataFrame) -> None:
        """One process: the models of a batch in worker threads while this thread does the RDKit work.

        For small calls, machines without ``fork`` and processes with other threads running (a
        server), or everything in this thread with ``overlap=False``. torch runs single-threaded in
        each thread (see :meth:`_run_forked`).
        """
        from concurrent.futures import ThreadPoolExecutor

        import torch

        from theralab.discovery.admet.physchem import physchem_table

        n_workers = min(2, os.cpu_count() or 1) if self.overlap else 0
        threads, switch = torch.get_num_threads(), sys.getswitchinterval()
        if n_workers:
            torch.set_num_threads(1)
            # RDKit calls keep the GIL; a worker waiting to dispatch its next torch op would otherwise
            # wait up to the default 5 ms switch interval each time (1,000 molecules: 7.0 s -> 6.0 s).
            sys.setswitchinterval(1e-4)
        try:
            with ThreadPoolExecutor(max_workers=max(n_workers, 1)) as pool:
                graph = self.featurize([mols[i] for i in batches[0]]) if batches else None
                for n, idx in enumerate(batches):
                    preds = self._forward(graph, pool if n_workers else None)
                    phys = physchem_table([mols[i] for i in idx])
                    graph = self.featurize([mols[i] for i in batches[n + 1]]) if n + 1 < len(batches) else None
                    self._fill(table, idx, phys, preds() if callable(preds) else preds)
        finally:
            torch.set_num_threads(threads)
            sys.setswitchinterval(switch)

    def explain(self, mol: Chem.Mol, task: str) -> np.ndarray:
        """Per-atom gradient x input for one endpoint, averaged over its five D-MPNNs."""
        from theralab.discovery.admet.dmpnn import atom_attributions

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


def _parse_all(smiles: list[Any]) -> tuple[list[Chem.Mol | None], list[str | None]]:
    """Parse every SMILES with the reason of each failure (a non-string is a missing SMILES)."""
    from theralab.chem.io import parse_smiles

    parsed = [parse_smiles(str(t)) if isinstance(t, str) else (None, "missing SMILES") for t in smiles]
    return [m for m, _ in parsed], [e for _, e in parsed]


@lru_cache(maxsize=4)
def _drugbank_reference(path: str, columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Sorted DrugBank-approved values per column (read once per process)."""
    frame = pd.read_csv(path)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ModelError(f"DrugBank reference lacks columns {missing}", where=path)
    return {c: np.sort(frame[c].to_numpy(dtype=float)) for c in columns}


@lru_cache(maxsize=2)
def get_panel(batch_size: int = ADMET_AI_BATCH) -> AdmetPanel:
    """A process-wide panel (loading ten checkpoints takes seconds; do it once per worker)."""
    return AdmetPanel(batch_size=batch_size)


def endpoint_info() -> pd.DataFrame:
    """ADMET-AI's description of each endpoint (category, name, units, task type)."""
    frame = pd.read_csv(admet_ai_resources() / "data" / "admet.csv")
    return frame
