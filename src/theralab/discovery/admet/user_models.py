"""Train, save, load and apply a user's own ADMET models, with uncertainty on every prediction.

Model kinds:

* ``lgbm``: LightGBM on the MapLight features (:mod:`theralab.discovery.admet.features`), a bag of
  ``members`` boosters with different seeds and row/feature subsampling, so the bag's spread is an
  ensemble uncertainty; one bag per target (missing labels dropped per target).
* ``chemprop``: Chemprop v2 D-MPNN (:mod:`theralab.discovery.admet.dmpnn`), multi-task with
  missing labels masked.
* ``ensemble``: both; the point prediction is the mean of the two families' means.

Every prediction carries: ensemble spread; for regression a split-conformal 90% interval fitted on
the calibration part; for classification a Platt-calibrated probability; and the Tanimoto
similarity to the nearest training molecule. The directory is a registry model (``model.json``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rdkit import Chem

from theralab.discovery.admet.features import Split, cv_splits, make_split, maplight_features
from theralab.errors import InputError, ModelError
from theralab.models.uncertainty import (
    ConformalRegressor,
    PlattCalibrator,
    coverage,
    ensemble_spread,
    expected_calibration_error,
    fit_conformal,
    fit_platt,
    nearest_similarity,
)

KINDS = ("lgbm", "chemprop", "ensemble")
TRAIN_FPS = "train_fps.npy"
CALIBRATION = "calibration.json"
TASK_PREFIX = "admet."


@dataclass
class TrainConfig:
    """How to train (recorded on the card so a model can be rebuilt)."""

    targets: list[str]
    task: str = "auto"
    kind: str = "lgbm"
    split: str = "scaffold"
    seed: int = 0
    members: int = 3
    epochs: int = 50
    alpha: float = 0.1
    lgbm_params: dict[str, Any] = field(default_factory=dict)


def infer_task(y: np.ndarray) -> str:
    """``classification`` when every label is 0 or 1, else ``regression``."""
    vals = np.unique(y[np.isfinite(y)])
    return "classification" if len(vals) and set(vals.tolist()) <= {0.0, 1.0} else "regression"


def check_targets(y: np.ndarray, targets: Sequence[str], task: str) -> None:
    """Refuse targets a model cannot learn from, naming the column and why."""
    for j, name in enumerate(targets):
        col = y[:, j]
        known = col[np.isfinite(col)]
        if len(known) == 0:
            raise InputError(f"target {name!r} has no values", where=f"column {name}")
        if task == "classification":
            bad = set(np.unique(known).tolist()) - {0.0, 1.0}
            if bad:
                raise InputError(
                    f"classification target {name!r} holds {sorted(bad)[:3]}; labels must be 0 or 1",
                    where=f"column {name}",
                    hint="use --task regression for continuous values",
                )
            if len(np.unique(known)) < 2:
                raise InputError(
                    f"target {name!r} has a single class ({int(known[0])}); nothing to discriminate",
                    where=f"column {name}",
                )
        elif np.nanstd(known) == 0:
            raise InputError(
                f"target {name!r} is constant ({known[0]}); a regression model learns nothing", where=f"column {name}"
            )


def _lgbm_params(task: str, seed: int, member: int, extra: dict[str, Any]) -> dict[str, Any]:
    params = {
        "objective": "binary" if task == "classification" else "regression",
        "n_estimators": 500,
        "learning_rate": 0.05,
        "num_leaves": 31,
        "min_child_samples": 5,
        "subsample": 0.9,
        "subsample_freq": 1,
        "colsample_bytree": 0.5,
        "random_state": seed * 1000 + member,
        "n_jobs": 1,
        "verbose": -1,
    }
    params.update(extra)
    return params


class AdmetModel:
    """A trained model: LightGBM bags and/or D-MPNNs plus calibration and training fingerprints."""

    def __init__(self, targets: list[str], task: str, kind: str) -> None:
        self.targets, self.task, self.kind = targets, task, kind
        self.lgbm: dict[str, list[Any]] = {}  # target -> boosters
        self.chemprop: list[Any] = []
        self.chemprop_configs: list[dict[str, Any]] = []
        self.conformal: dict[str, ConformalRegressor] = {}
        self.platt: dict[str, PlattCalibrator] = {}
        self.train_fps = np.zeros((0, 32), dtype=np.uint64)

    # ---------------------------------------------------------------- members
    def member_predictions(self, mols: Sequence[Chem.Mol], X: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Per target, a ``members x n`` array of raw predictions (probabilities for classification)."""
        from theralab.discovery.admet import dmpnn as admet_chemprop

        out: dict[str, list[np.ndarray]] = {t: [] for t in self.targets}
        if self.lgbm:
            X = maplight_features(mols) if X is None else X
            for t, boosters in self.lgbm.items():
                for b in boosters:
                    out[t].append(b.predict(X))
        cp_members: list[np.ndarray] = [admet_chemprop.predict(m, mols) for m in self.chemprop]
        families: dict[str, np.ndarray] = {}
        for t in self.targets:
            j = self.targets.index(t)
            lg = np.array(out[t]) if out[t] else None
            cp = np.array([p[:, j] for p in cp_members]) if cp_members else None
            parts = [p for p in (lg, cp) if p is not None]
            families[t] = np.vstack(parts)
            families[t + "__point"] = np.mean([p.mean(axis=0) for p in parts], axis=0)
        return families

    def predict(self, mols: Sequence[Chem.Mol], X: np.ndarray | None = None) -> pd.DataFrame:
        """Point prediction, spread, interval or calibrated probability, and nearest-training similarity."""
        from theralab.chem.fingerprints import Fingerprinter, fingerprint_spec

        members = self.member_predictions(mols, X)
        cols: dict[str, np.ndarray] = {}
        for t in self.targets:
            point = members[t + "__point"]
            cols[f"{t}_spread"] = ensemble_spread(members[t])
            if self.task == "regression":
                cols[t] = point
                if t in self.conformal:
                    lo, hi = self.conformal[t].interval(point)
                    cols[f"{t}_lower"], cols[f"{t}_upper"] = lo, hi
            else:
                cols[f"{t}_raw"] = point
                cols[t] = self.platt.get(t, PlattCalibrator())(point)
        fps = Fingerprinter(fingerprint_spec("morgan2", 2048)).pack_many(mols)
        sim, _ = nearest_similarity(fps, self.train_fps)
        cols["nearest_train_tanimoto"] = sim
        order = []
        for t in self.targets:
            order += [c for c in (t, f"{t}_lower", f"{t}_upper", f"{t}_raw", f"{t}_spread") if c in cols]
        order.append("nearest_train_tanimoto")
        return pd.DataFrame({c: cols[c] for c in order})

    # ---------------------------------------------------------------- persistence
    def save(self, model_dir: Path) -> list[str]:
        """Write weights (LightGBM text, tensors-only state_dicts, JSON, .npy) and return the file names."""
        from theralab.discovery.admet import dmpnn as admet_chemprop

        model_dir = Path(model_dir)
        model_dir.mkdir(parents=True, exist_ok=True)
        files = []
        for t, boosters in self.lgbm.items():
            for i, b in enumerate(boosters):
                name = f"lgbm_{self.targets.index(t)}_{i}.txt"
                b.booster_.save_model(str(model_dir / name))
                files.append(name)
        for i, (m, cfg) in enumerate(zip(self.chemprop, self.chemprop_configs, strict=True)):
            files += admet_chemprop.save(m, cfg, model_dir, prefix=f"m{i}_")
        np.save(model_dir / TRAIN_FPS, self.train_fps, allow_pickle=False)
        (model_dir / CALIBRATION).write_text(
            json.dumps(
                {
                    "targets": self.targets,
                    "task": self.task,
                    "kind": self.kind,
                    "lgbm_members": {t: len(b) for t, b in self.lgbm.items()},
                    "chemprop_members": len(self.chemprop),
                    "conformal": {t: c.to_dict() for t, c in self.conformal.items()},
                    "platt": {t: p.to_dict() for t, p in self.platt.items()},
                },
                indent=2,
            )
        )
        return files + [TRAIN_FPS, CALIBRATION]

    @classmethod
    def load(cls, model_dir: Path) -> AdmetModel:
        """Load a model directory after verifying its card's checksums."""
        import lightgbm as lgb

        from theralab.discovery.admet import dmpnn as admet_chemprop
        from theralab.models.registry import load_card

        model_dir = Path(model_dir)
        card = load_card(model_dir)
        if not card.task.startswith(TASK_PREFIX):
            raise ModelError(f"{model_dir} holds a {card.task!r} model, not an ADMET model", where=str(model_dir))
        meta = json.loads((model_dir / CALIBRATION).read_text())
        model = cls(meta["targets"], meta["task"], meta["kind"])
        for t, n in meta["lgbm_members"].items():
            j = model.targets.index(t)
            model.lgbm[t] = [
                _BoosterAdapter(lgb.Booster(model_file=str(model_dir / f"lgbm_{j}_{i}.txt")), model.task)
                for i in range(n)
            ]
        for i in range(meta["chemprop_members"]):
            model.chemprop.append(admet_chemprop.load(model_dir, prefix=f"m{i}_"))
            model.chemprop_configs.append(json.loads((model_dir / f"m{i}_{admet_chemprop.CONFIG}").read_text()))
        model.conformal = {t: ConformalRegressor(**c) for t, c in meta["conformal"].items()}
        model.platt = {t: PlattCalibrator(**p) for t, p in meta["platt"].items()}
        model.train_fps = np.load(model_dir / TRAIN_FPS, allow_pickle=False)
        return model


class _BoosterAdapter:
    """A loaded LightGBM Booster that answers ``predict`` like the sklearn wrapper did."""

    def __init__(self, booster: Any, task: str) -> None:
        self.booster_ = booster
        self.task = task

    def predict(self, X: np.ndarray, **kwargs: Any) -> np.ndarray:
        return self.booster_.predict(X, **kwargs)


def _fit_lgbm(X: np.ndarray, y: np.ndarray, task: str, cfg: TrainConfig) -> list[Any]:
    import lightgbm as lgb

    boosters = []
    for member in range(cfg.members):
        params = _lgbm_params(task, cfg.seed, member, cfg.lgbm_params)
        est = lgb.LGBMClassifier(**params) if task == "classification" else lgb.LGBMRegressor(**params)
        est.fit(X, y.astype(int) if task == "classification" else y)
        boosters.append(_BoosterAdapter(est.booster_, task))
    return boosters


def fit(
    mols: Sequence[Chem.Mol], y: np.ndarray, cfg: TrainConfig, split: Split, X: np.ndarray | None = None
) -> AdmetModel:
    """Fit on ``split.train`` and calibrate on ``split.calibration`` (test rows are not touched)."""
    from theralab.chem.fingerprints import Fingerprinter, fingerprint_spec
    from theralab.discovery.admet import dmpnn as admet_chemprop

    task = cfg.task
    if cfg.kind not in KINDS:
        raise InputError(f"unknown model kind {cfg.kind!r}", where="--model", hint=", ".join(KINDS))
    model = AdmetModel(list(cfg.targets), task, cfg.kind)
    tr, ca = split.train, split.calibration
    if cfg.kind in ("lgbm", "ensemble"):
        X = maplight_features(mols) if X is None else X
        for j, t in enumerate(cfg.targets):
            rows = tr[np.isfinite(y[tr, j])]
            if task == "classification" and len(np.unique(y[rows, j])) < 2:
                raise InputError(
                    f"the training part of {t!r} has a single class",
                    where=f"column {t}",
                    hint="use a random split or more data",
                )
            model.lgbm[t] = _fit_lgbm(X[rows], y[rows, j], task, cfg)
    if cfg.kind in ("chemprop", "ensemble"):
        m, c = admet_chemprop.train([mols[i] for i in tr], y[tr], task, epochs=cfg.epochs, seed=cfg.seed)
        model.chemprop.append(m)
        model.chemprop_configs.append(c)
    model.train_fps = Fingerprinter(fingerprint_spec("morgan2", 2048)).pack_many([mols[i] for i in tr])
    cal_members = model.member_predictions([mols[i] for i in ca], None if X is None else X[ca])
    for j, t in enumerate(cfg.targets):
        known = np.isfinite(y[ca, j])
        pred = cal_members[t + "__point"][known]
        if task == "regression":
            model.conformal[t] = fit_conformal(y[ca, j][known], pred, cfg.alpha)
        else:
            model.platt[t] = fit_platt(y[ca, j][known], pred)
    return model


def metrics(y_true: np.ndarray, table: pd.DataFrame, targets: Sequence[str], task: str) -> dict[str, dict[str, float]]:
    """Test metrics per target (RMSE/MAE/R2/Spearman/coverage or AUROC/AUPRC/Brier/ECE)."""
    from scipy.stats import spearmanr
    from sklearn import metrics as skm

    out: dict[str, dict[str, float]] = {}
    for j, t in enumerate(targets):
        known = np.isfinite(y_true[:, j])
        y, p = y_true[known, j], table[t].to_numpy()[known]
        if len(y) == 0:
            continue
        if task == "regression":
            row = {
                "rmse": float(np.sqrt(np.mean((y - p) ** 2))),
                "mae": float(np.mean(np.abs(y - p))),
                "r2": float(skm.r2_score(y, p)) if len(y) > 1 else float("nan"),
                "spearman": float(spearmanr(y, p).statistic) if len(y) > 2 else float("nan"),
            }
            if f"{t}_lower" in table:
                row["coverage90"] = coverage(
                    y, table[f"{t}_lower"].to_numpy()[known], table[f"{t}_upper"].to_numpy()[known]
                )
        else:
            both = len(np.unique(y)) == 2
            row = {
                "auroc": float(skm.roc_auc_score(y, p)) if both else float("nan"),
                "auprc": float(skm.average_precision_score(y, p)) if both else float("nan"),
                "brier": float(np.mean((p - y) ** 2)),
                "ece": expected_calibration_error(y, p),
                "ece_uncalibrated": expected_calibration_error(y, table[f"{t}_raw"].to_numpy()[known]),
            }
        row["n_test"] = int(len(y))
        out[t] = row
    return out


def split_for(mols: Sequence[Chem.Mol], method: str, seed: int, labels: Sequence[str] | None = None) -> list[Split]:
    """One split (random/scaffold/column) or the k folds of ``cv``."""
    if method == "cv":
        return cv_splits(mols, seed=seed)
    if method.startswith("column"):
        return [make_split(mols, "column", seed, labels=labels)]
    return [make_split(mols, method, seed)]
