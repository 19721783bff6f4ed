"""From a user's table to a registered ADMET model, and back: train, evaluate, predict.

This is the layer the CLI, API and benchmarks call. It owns the bad-input rules: SMILES that do
not parse and rows without a target value are set aside with a per-row reason (reported, never
silently dropped); a missing column, a constant target, a single-class classification set or too
few rows for the split are errors that say which column and why.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rdkit import Chem

from theralab.discovery.admet.features import maplight_features
from theralab.discovery.admet.user_models import (
    TASK_PREFIX,
    AdmetModel,
    TrainConfig,
    check_targets,
    fit,
    infer_task,
    metrics,
    split_for,
)
from theralab.errors import InputError


@dataclass
class Prepared:
    """Parsed rows ready for training: molecules, label matrix and the rows set aside."""

    mols: list[Chem.Mol]
    smiles: list[str]
    y: np.ndarray
    rows: np.ndarray
    rejected: list[dict[str, Any]] = field(default_factory=list)


def read_table(path: str | Path) -> pd.DataFrame:
    """CSV/TSV/Parquet into a DataFrame: the project's one reader (:func:`theralab.chem.io.read_table`)."""
    from theralab.chem.io import read_table as read

    return read(path)


def smiles_column(frame: pd.DataFrame, wanted: str | None = None) -> str:
    """The SMILES column (given, or detected by the usual names)."""
    from theralab.chem.io import find_smiles_column

    extra = [c for c in frame.columns if str(c).lower() in ("smiles_unify", "drug")]
    if wanted is None and extra and not any(str(c).lower() == "smiles" for c in frame.columns):
        return str(extra[0])
    return find_smiles_column([str(c) for c in frame.columns], wanted, "data")


def prepare(
    frame: pd.DataFrame, targets: Sequence[str], smiles_col: str | None = None, task: str = "auto"
) -> tuple[Prepared, str]:
    """Parse SMILES and labels; return the usable rows and the task (``auto`` resolved)."""
    from theralab.chem.io import parse_smiles

    if not targets:
        raise InputError("name at least one target column", where="--target")
    missing = [t for t in targets if t not in frame.columns]
    if missing:
        raise InputError(
            f"target column(s) {missing} not in the data",
            where="--target",
            hint=f"columns: {', '.join(map(str, frame.columns))}",
        )
    scol = smiles_column(frame, smiles_col)
    y_all = np.full((len(frame), len(targets)), np.nan)
    for j, t in enumerate(targets):
        col = pd.to_numeric(frame[t], errors="coerce")
        bad = frame[t].notna() & col.isna()
        if bad.any():
            first = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"target {t!r} holds non-numeric values such as {frame[t].iloc[first]!r}",
                where=f"column {t}, row {first + 1}",
            )
        y_all[:, j] = col.to_numpy(dtype=float)
    if task == "auto":
        task = infer_task(y_all)
    if task not in ("regression", "classification"):
        raise InputError(f"unknown task {task!r}", where="--task", hint="regression or classification")
    mols, smiles, rows, rejected = [], [], [], []
    for i, (text, yrow) in enumerate(zip(frame[scol].tolist(), y_all, strict=True)):
        if not isinstance(text, str):
            rejected.append({"row": i + 1, "smiles": "", "reason": "missing SMILES"})
            continue
        if not np.isfinite(yrow).any():
            rejected.append({"row": i + 1, "smiles": text, "reason": "no target value"})
            continue
        mol, err = parse_smiles(text)
        if mol is None:
            rejected.append({"row": i + 1, "smiles": text, "reason": err})
            continue
        mols.append(mol)
        smiles.append(text)
        rows.append(i)
    if not mols:
        raise InputError("no row has both a valid molecule and a target value", where="data")
    y = y_all[np.array(rows)]
    check_targets(y, targets, task)
    return Prepared(mols, smiles, y, np.array(rows), rejected), task


def train(
    frame: pd.DataFrame,
    cfg: TrainConfig,
    out_dir: str | Path,
    *,
    smiles_col: str | None = None,
    name: str | None = None,
    register: bool = True,
    source: str = "",
) -> dict[str, Any]:
    """Train, evaluate on the held-out test part, save the model directory with its card.

    Returns:
        A report: card fields, per-split metrics, and the rejected rows.
    """
    from theralab.models.registry import ModelCard, fingerprint_table, register_dir, save_card

    prepared, task = prepare(frame, cfg.targets, smiles_col, cfg.task)
    cfg.task = task
    labels = None
    if cfg.split.startswith("column:"):
        col = cfg.split.split(":", 1)[1]
        if col not in frame.columns:
            raise InputError(f"split column {col!r} not in the data", where="--split")
        labels = frame[col].to_numpy()[prepared.rows]
    splits = split_for(prepared.mols, cfg.split, cfg.seed, labels)
    X = maplight_features(prepared.mols) if cfg.kind in ("lgbm", "ensemble") else None
    t0 = time.perf_counter()
    fold_metrics, model = [], None
    for sp in splits:
        model = fit(prepared.mols, prepared.y, cfg, sp, X)
        test_mols = [prepared.mols[i] for i in sp.test]
        table = model.predict(test_mols, None if X is None else X[sp.test])
        fold_metrics.append(metrics(prepared.y[sp.test], table, cfg.targets, task))
    assert model is not None
    summary = _summarise(fold_metrics)
    out = Path(out_dir)
    files = model.save(out)
    used_cols = [smiles_column(frame, smiles_col), *cfg.targets]
    card = ModelCard(
        name=name or out.name,
        task=TASK_PREFIX + task,
        description=f"{cfg.kind} ADMET model for {', '.join(cfg.targets)}",
        training_data={
            **fingerprint_table(frame[used_cols]),
            "source": source,
            "used_rows": len(prepared.mols),
            "rejected_rows": len(prepared.rejected),
        },
        metrics=summary,
        seeds=[cfg.seed],
        retrain=f"theralab admet train {source or 'DATA'} --target {' --target '.join(cfg.targets)} --task {task} "
        f"--split {cfg.split} --model {cfg.kind} --seed {cfg.seed}",
        weights={f: "" for f in files},
        kind=cfg.kind,
        targets=list(cfg.targets),
        split=cfg.split,
        members=cfg.members,
        epochs=cfg.epochs,
        alpha=cfg.alpha,
        train_seconds=round(time.perf_counter() - t0, 1),
        split_sizes={
            "train": len(splits[-1].train),
            "calibration": len(splits[-1].calibration),
            "test": len(splits[-1].test),
        },
    )
    save_card(out, card)
    registered = str(register_dir(out)) if register else None
    return {
        "card": card.model_dump(),
        "metrics": summary,
        "folds": fold_metrics,
        "rejected": prepared.rejected,
        "model_dir": str(out),
        "registered": registered,
    }


def _summarise(folds: list[dict[str, dict[str, float]]]) -> dict[str, Any]:
    if len(folds) == 1:
        return folds[0]
    out: dict[str, Any] = {}
    for t in folds[0]:
        out[t] = {}
        for k in folds[0][t]:
            vals = np.array([f[t][k] for f in folds], dtype=float)
            out[t][k] = float(np.nanmean(vals))
            out[t][k + "_sd"] = float(np.nanstd(vals, ddof=1))
    return out


def resolve_model(model: str | Path) -> Path:
    """A model directory, or a registered model's name."""
    from theralab.models.registry import find_model

    path = Path(model)
    if (path / "model.json").exists():
        return path
    return find_model(str(model))


def predict_frame(model_ref: str | Path, smiles: Sequence[str]) -> pd.DataFrame:
    """Apply a trained model to SMILES; unparseable rows keep their place with an ``error``."""
    from theralab.chem.io import parse_smiles

    model = AdmetModel.load(resolve_model(model_ref))
    parsed = [parse_smiles(s) if isinstance(s, str) else (None, "missing SMILES") for s in smiles]
    ok = [i for i, (m, _) in enumerate(parsed) if m is not None]
    table = model.predict([parsed[i][0] for i in ok]) if ok else model.predict([])
    full = pd.DataFrame(np.nan, index=range(len(smiles)), columns=table.columns)
    if ok:
        full.iloc[ok, :] = table.to_numpy()
    full.insert(0, "smiles", list(smiles))
    full.insert(1, "error", [err or "" for _, err in parsed])
    return full


def evaluate(model_ref: str | Path, frame: pd.DataFrame, smiles_col: str | None = None) -> dict[str, Any]:
    """Metrics of a saved model on a labelled table (every usable row is a test row)."""
    path = resolve_model(model_ref)
    model = AdmetModel.load(path)
    prepared, _ = prepare(frame, model.targets, smiles_col, model.task)
    table = model.predict(prepared.mols)
    return {
        "model": str(path),
        "metrics": metrics(prepared.y, table, model.targets, model.task),
        "rejected": prepared.rejected,
        "rows": len(prepared.mols),
    }
