"""Benchmark runs: train on Davis/KIBA splits and score the test part beside published anchors.

Shared by ``theralab dti benchmark`` and ``benchmarks/dti.py`` so both report the same thing.
Setting 1: DeepDTA's folds (training folds 1-4 train, fold 0 early-stops, the test fold scores).
Cold splits: drugs, targets or both partitioned 70/10/20 by seed (cold-both keeps only pairs whose
drug and target fall in the same part).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from theralab.discovery.dti.data import DTIData, load_benchmark, split_pairs
from theralab.discovery.dti.metrics import regression_report
from theralab.discovery.dti.predictor import DTIModel
from theralab.discovery.dti.train import TrainConfig

ANCHORS: dict[str, dict[str, tuple[float, float]]] = {  # (CI, MSE), setting-1 test fold, from the papers
    "davis": {"DeepDTA": (0.878, 0.261), "GraphDTA-GIN": (0.893, 0.229), "DGraphDTA": (0.904, 0.202),
              "ECFP+FNN": (0.893, 0.244)},
    "kiba": {"DeepDTA": (0.863, 0.194), "GraphDTA-GIN": (0.882, 0.147), "DGraphDTA": (0.904, 0.126)},
}
CPU_NETWORKS: dict[str, dict[str, Any]] = {  # reduced sizes for a shared CPU; paper sizes are the defaults
    "cnn": {"embed": 16, "filters": 8, "max_protein": 1000, "head": [512, 128]},
    "graph": {"protein": "kmer", "head": [512, 128]},
    "baseline": {"n_estimators": 800, "learning_rate": 0.1, "colsample_bytree": 0.3},
}


def predict_rows(model: DTIModel, data: DTIData, rows: np.ndarray) -> np.ndarray:
    """Ensemble mean over pairs ``rows``, featurising each unique drug and target once."""
    return model.member_predictions(data.drugs, data.targets, data.drug_idx[rows], data.target_idx[rows]).mean(0)


def run_benchmark(dataset: str, data_root: str | Path, kind: str, split: str, *, seed: int = 0,
                  full_size: bool = False, network: dict[str, Any] | None = None, save_model: str | Path | None = None,
                  progress: Callable[[float, str], None] | None = None, data: DTIData | None = None,
                  **train: Any) -> dict[str, Any]:
    """Train one model on one split and return its test metrics and run facts as a row.

    Args:
        dataset: ``davis`` or ``kiba`` (read from ``<data_root>/dti_<dataset>``).
        kind: ``baseline``, ``graph`` or ``cnn``.
        split: ``setting1``, ``cold-drug``, ``cold-target`` or ``cold-both``.
        full_size: paper-sized networks instead of :data:`CPU_NETWORKS`.
        network: architecture overrides on top of those.
        save_model: save the setting-1 model (with its card) here.
        train: further :class:`TrainConfig` fields (epochs, lr, batch_size, max_minutes, device, ...).
    """
    data = data or load_benchmark(dataset, data_root)
    tr, va, te = split_pairs(data, split, seed=seed, valid=0.1, test=0.2,
                             setting1_root=Path(data_root) / f"dti_{dataset}")
    network = {**({} if full_size else CPU_NETWORKS[kind]), **(network or {})}
    cfg = TrainConfig(model=kind, seed=seed, network=network, **train)
    started = time.time()
    model, logs = DTIModel.fit(data, tr, va, cfg, progress=progress)
    report = regression_report(data.y[te], predict_rows(model, data, te))
    row = {"dataset": dataset, "model": kind, "split": split, "seed": seed, **report, "train_pairs": int(len(tr)),
           "valid_pairs": int(len(va)), "minutes": round((time.time() - started) / 60, 1),
           "epochs": [lg.get("epochs_run", lg.get("trees")) for lg in logs],
           "stopped": [lg.get("stopped", "") for lg in logs],
           "best_valid_mse": [round(float(lg.get("best_valid_mse", float("nan"))), 4) for lg in logs],
           "network": network, "device": cfg.device, "lr": cfg.lr, "batch_size": cfg.batch_size}
    if save_model and split == "setting1":
        budget = f" --max-minutes {cfg.max_minutes}" if cfg.max_minutes else ""
        budget += f" --network '{json.dumps(network)}'" if network else ""
        model.save(save_model, name=f"dti-{kind}-{dataset}",
                   metrics={f"setting1_test_{k}": v for k, v in report.items()},
                   retrain=f"nice -n 10 python benchmarks/dti.py {dataset} --models {kind} --splits setting1 "
                           f"--batch-size {cfg.batch_size} --lr {cfg.lr}{budget} --save-model DIR")
    return row
