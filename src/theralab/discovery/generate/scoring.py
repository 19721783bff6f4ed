"""Multi-objective scoring: components -> desirabilities in [0, 1] -> one weighted mean per molecule.

Every optimiser (Graph GA, RL) calls :class:`Scorer` on a batch of SMILES. Each component computes
a raw value per molecule, a :class:`~.schemas.Desirability` maps it to [0, 1], and the weighted
geometric (default: any zero vetoes the molecule, as in REINVENT) or arithmetic mean combines them.

Robustness is the point: each component runs with a time limit in a worker thread, so a hanging
docking or QSAR plugin raises :class:`ScoringError` naming the component instead of hanging the run;
a scorer that raises is reported with its name; a NaN for a molecule scores that molecule 0 and
records why (or stops the run with ``on_nan = "error"``). Invalid SMILES score 0 with their reason.
"""

from __future__ import annotations

import importlib
import math
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rdkit import Chem

from theralab.chem.io import parse_smiles
from theralab.discovery.generate.adapters import admet_endpoints
from theralab.discovery.generate.schemas import (
    AdmetComponent,
    CustomComponent,
    Desirability,
    ModelComponent,
    PropertyComponent,
    QedComponent,
    SAComponent,
    ScoringConfig,
    SelectivityComponent,
    SimilarityComponent,
    SubstructureComponent,
)
from theralab.errors import InputError, TheralabError

RawFn = Callable[[list[Chem.Mol], list[str]], np.ndarray]


class ScoringError(TheralabError):
    """A component failed, timed out or returned the wrong shape; the message names it."""


def desirability(values: np.ndarray, d: Desirability) -> np.ndarray:
    """Map raw values to [0, 1] (NaN stays NaN so the caller can say which molecule failed)."""
    x = np.asarray(values, dtype=float)
    if d.kind == "raw":
        return np.clip(x, 0.0, 1.0)
    lo, hi = float(d.low), float(d.high)  # type: ignore[arg-type]
    if d.kind in ("maximize", "minimize"):
        mid, span = (lo + hi) / 2, hi - lo
        if d.shape == "step":
            up = (x >= mid).astype(float)
        elif d.shape == "linear":
            up = np.clip((x - lo) / span, 0.0, 1.0)
        else:
            up = 1.0 / (1.0 + np.exp(-10.0 * (x - mid) / span))
        out = up if d.kind == "maximize" else 1.0 - up
    else:  # range
        if d.shape == "step":
            out = ((x >= lo) & (x <= hi)).astype(float)
        elif d.shape == "linear":
            below = np.clip(1.0 - (lo - x) / d.width, 0.0, 1.0)
            above = np.clip(1.0 - (x - hi) / d.width, 0.0, 1.0)
            out = np.where(x < lo, below, np.where(x > hi, above, 1.0))
        else:  # logistic edges reaching 0.5 half a width outside the bounds
            rise = 1.0 / (1.0 + np.exp(-10.0 * (x - lo + d.width / 2) / d.width))
            fall = 1.0 / (1.0 + np.exp(10.0 * (x - hi - d.width / 2) / d.width))
            out = rise * fall
    out = np.where(np.isnan(x), np.nan, out)
    return np.clip(out, 0.0, 1.0)


def _property_fn(comp: PropertyComponent) -> RawFn:
    from theralab.chem.descriptors import DESCRIPTORS

    funcs = {d.name: d.func for d in DESCRIPTORS}
    if comp.descriptor not in funcs:
        raise InputError(f"component {comp.name!r}: unknown descriptor {comp.descriptor!r}",
                         where=f"scoring.components.{comp.name}.descriptor", hint=f"choose one of {', '.join(funcs)}")
    func = funcs[comp.descriptor]
    return lambda mols, smiles: np.array([float(func(m)) for m in mols])


def _substructure_fn(comp: SubstructureComponent) -> RawFn:
    patt = Chem.MolFromSmarts(comp.smarts)
    if patt is None:
        raise InputError(f"component {comp.name!r}: SMARTS does not parse: {comp.smarts!r}",
                         where=f"scoring.components.{comp.name}.smarts", hint="check brackets and atom primitives")
    want = comp.mode == "require"
    return lambda mols, smiles: np.array([1.0 if m.HasSubstructMatch(patt) == want else 0.0 for m in mols])


def _similarity_fn(comp: SimilarityComponent) -> RawFn:
    from theralab.chem.fingerprints import Fingerprinter, fingerprint_spec, tanimoto

    ref, why = parse_smiles(comp.smiles)
    if ref is None:
        raise InputError(f"component {comp.name!r}: reference SMILES does not parse ({why})",
                         where=f"scoring.components.{comp.name}.smiles")
    fp = Fingerprinter(fingerprint_spec(comp.fingerprint, comp.bits))
    query = fp.pack(ref)
    return lambda mols, smiles: tanimoto(query, fp.pack_many(mols)).astype(float)


def _model_fn(comp: ModelComponent) -> RawFn:
    from theralab.models.base import load_predictor

    predictor = load_predictor(comp.model)

    def run(mols: list[Chem.Mol], smiles: list[str]) -> np.ndarray:
        table = predictor.predict(smiles)
        col = comp.column
        if col is None:
            numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
            if not numeric:
                raise ScoringError(f"component {comp.name!r}: model {comp.model!r} returned no numeric column")
            col = numeric[0]
        if col not in table.columns:
            raise ScoringError(f"component {comp.name!r}: model {comp.model!r} has no output {col!r}",
                               hint=f"outputs: {', '.join(map(str, table.columns))}")
        return table[col].to_numpy(dtype=float)

    return run


def _custom_fn(comp: CustomComponent) -> RawFn:
    module, _, func = comp.function.partition(":")
    try:
        fn = getattr(importlib.import_module(module), func)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"component {comp.name!r}: cannot import {comp.function!r}: {exc}",
                         where=f"scoring.components.{comp.name}.function",
                         hint="give an importable 'module:function' taking a list of SMILES") from None
    return lambda mols, smiles: np.asarray(fn(list(smiles)), dtype=float)


def build_raw_fn(comp: object) -> RawFn:
    """The raw-value function of one component (validated eagerly, so bad SMARTS fail at load)."""
    if isinstance(comp, QedComponent):
        from rdkit.Chem import QED

        return lambda mols, smiles: np.array([QED.qed(m) for m in mols])
    if isinstance(comp, SAComponent):
        from theralab.chem.descriptors import sa_score

        return lambda mols, smiles: np.array([sa_score(m) for m in mols])
    if isinstance(comp, PropertyComponent):
        return _property_fn(comp)
    if isinstance(comp, SubstructureComponent):
        return _substructure_fn(comp)
    if isinstance(comp, SimilarityComponent):
        return _similarity_fn(comp)
    if isinstance(comp, ModelComponent):
        return _model_fn(comp)
    if isinstance(comp, AdmetComponent):
        endpoint = comp.endpoint
        return lambda mols, smiles: admet_endpoints(smiles, [endpoint])[endpoint].to_numpy(dtype=float)
    if isinstance(comp, CustomComponent):
        return _custom_fn(comp)
    if isinstance(comp, SelectivityComponent):
        on, off = build_raw_fn(comp.on_target), build_raw_fn(comp.off_target)
        return lambda mols, smiles: np.asarray(on(mols, smiles), float) - np.asarray(off(mols, smiles), float)
    raise InputError(f"unknown component type {type(comp).__name__}")


def call_with_timeout(fn: Callable[[], np.ndarray], timeout_s: float, name: str) -> np.ndarray:
    """Run ``fn`` in a daemon thread; raise :class:`ScoringError` naming ``name`` on timeout or error.

    Why a thread and not a process: most scorers hold large models that must not be re-loaded per
    batch. A Python thread cannot be killed, so a timed-out scorer keeps running in the background
    as a daemon (it dies with the process) while the run reports the failure and stops.
    """
    box: queue.Queue = queue.Queue(maxsize=1)

    def target() -> None:
        try:
            box.put((True, fn()))
        except BaseException as exc:  # noqa: BLE001 - reported to the caller with the component name
            box.put((False, exc))

    threading.Thread(target=target, name=f"score-{name}", daemon=True).start()
    try:
        ok, value = box.get(timeout=timeout_s)
    except queue.Empty:
        raise ScoringError(f"scoring component {name!r} timed out after {timeout_s:g} s",
                           where=f"scoring.components.{name}",
                           hint="raise its timeout_s, score smaller batches, or fix the scorer") from None
    if not ok:
        if isinstance(value, TheralabError):
            raise ScoringError(f"scoring component {name!r} failed: {value.message}",
                               where=f"scoring.components.{name}", hint=value.hint) from value
        raise ScoringError(f"scoring component {name!r} raised {type(value).__name__}: {value}",
                           where=f"scoring.components.{name}") from value
    return value


@dataclass
class ScoreBatch:
    """Scores of one batch: ``total`` per input SMILES and a table of every component."""

    total: np.ndarray
    table: pd.DataFrame


class Scorer:
    """Scores SMILES batches under a :class:`ScoringConfig`.

    Args:
        config: the validated ``[scoring]`` section.
    """

    def __init__(self, config: ScoringConfig) -> None:
        self.config = config
        self.components = list(config.components)
        self.fns = [build_raw_fn(c) for c in self.components]
        weights = np.array([c.weight for c in self.components], dtype=float)
        self.weights = weights / weights.sum()

    @property
    def names(self) -> list[str]:
        """Component names, in run-file order."""
        return [c.name for c in self.components]

    def __call__(self, smiles: Sequence[str]) -> ScoreBatch:
        """Score a batch; invalid SMILES get score 0 and their parse error."""
        smiles = [str(s) for s in smiles]
        n = len(smiles)
        mols: list[Chem.Mol | None] = []
        errors: list[str] = []
        for s in smiles:
            mol, why = parse_smiles(s)
            mols.append(mol)
            errors.append(why or "")
        ok = [i for i, m in enumerate(mols) if m is not None]
        table = pd.DataFrame({"smiles": smiles, "valid": [m is not None for m in mols]})
        des = np.zeros((n, len(self.components)))
        good_mols = [mols[i] for i in ok]
        good_smiles = [smiles[i] for i in ok]
        for j, (comp, fn) in enumerate(zip(self.components, self.fns, strict=True)):
            raw = np.full(n, np.nan)
            if ok:
                values = call_with_timeout(lambda fn=fn: fn(good_mols, good_smiles), comp.timeout_s, comp.name)
                values = np.asarray(values, dtype=float).reshape(-1)
                if values.shape[0] != len(ok):
                    raise ScoringError(f"scoring component {comp.name!r} returned {values.shape[0]} values "
                                       f"for {len(ok)} molecules", where=f"scoring.components.{comp.name}")
                raw[ok] = values
            d = desirability(raw, comp.desirability)
            bad = [i for i in ok if not math.isfinite(d[i])]
            if bad and self.config.on_nan == "error":
                raise ScoringError(f"scoring component {comp.name!r} returned NaN for {len(bad)} molecule(s), "
                                   f"e.g. {smiles[bad[0]]}", where=f"scoring.components.{comp.name}",
                                   hint="set on_nan = 'zero' to score such molecules 0 and keep going")
            for i in bad:
                errors[i] = (errors[i] + "; " if errors[i] else "") + f"{comp.name}: NaN"
            des[:, j] = np.nan_to_num(d, nan=0.0)
            table[f"{comp.name}_raw"] = raw
            table[comp.name] = des[:, j]
        total = aggregate(des, self.weights, self.config.aggregate)
        total[[m is None for m in mols]] = 0.0
        table.insert(1, "score", total)
        table["error"] = errors
        return ScoreBatch(total=total, table=table)


def aggregate(des: np.ndarray, weights: np.ndarray, how: str) -> np.ndarray:
    """Weighted geometric (``prod d_j^w_j``) or arithmetic (``sum w_j d_j``) mean; weights sum to 1."""
    if des.shape[0] == 0:
        return np.zeros(0)
    if how == "arithmetic":
        return des @ weights
    with np.errstate(divide="ignore"):
        logs = np.where(des > 0, np.log(np.maximum(des, 1e-300)), -np.inf)
    keep = weights > 0
    out = np.exp((logs[:, keep] * weights[keep]).sum(axis=1))
    return np.nan_to_num(out, nan=0.0)
