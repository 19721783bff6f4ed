"""Clinical risk models on tabular patient data: train, calibrate, explain, save and load.

Classifiers (``logistic``, ``gbm`` = LightGBM) predict the probability of a binary outcome; their
scores are recalibrated by Platt scaling (``p = sigmoid(a * s + b)`` fitted on out-of-fold raw
scores, so the calibration map never sees its own training predictions). Survival models come from
:mod:`theralab.precision.risk.survival`. Every prediction can be explained with SHAP values:
exact for the logistic model (``phi_j = beta_j * (x_j - mean_j)`` on the log-odds scale) and
TreeSHAP for LightGBM (``pred_contrib``), both summing to the model's raw output.

Models are saved as a directory (``model.json`` card, ``params.json``, and ``booster.txt`` or
``net.pt``) loaded without pickle; the random survival forest cannot be saved that way and is
refused with a reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from theralab.errors import InputError, ModelError
from theralab.precision.risk.survival import SurvivalModel, evaluate_survival, fit_survival
from theralab.precision.risk.tabular import Preprocessor

CLASSIFIERS = ("logistic", "gbm")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class ClassifierModel:
    """A calibrated binary risk classifier over a table."""

    kind: str
    features: list[str]
    pre: Preprocessor
    coef: list[float] = field(default_factory=list)
    intercept: float = 0.0
    booster: Any = None
    platt: tuple[float, float] = (1.0, 0.0)
    x_mean: list[float] = field(default_factory=list)

    def raw(self, frame: pd.DataFrame) -> np.ndarray:
        """Uncalibrated log-odds."""
        x = self.pre.transform(frame)
        if self.kind == "logistic":
            return x @ np.asarray(self.coef) + self.intercept
        return self.booster.predict(x, raw_score=True)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of the outcome per row."""
        a, b = self.platt
        return _sigmoid(a * self.raw(frame) + b)

    def explain(self, frame: pd.DataFrame) -> pd.DataFrame:
        """SHAP values on the log-odds scale (rows x features, plus ``base_value``); rows sum to ``raw``."""
        x = self.pre.transform(frame)
        if self.kind == "logistic":
            coef = np.asarray(self.coef)
            phi = (x - np.asarray(self.x_mean)) * coef
            base = float(np.asarray(self.x_mean) @ coef + self.intercept)
            out = pd.DataFrame(phi, columns=self.pre.feature_names)
            out["base_value"] = base
            return out
        contrib = self.booster.predict(x, pred_contrib=True)
        out = pd.DataFrame(contrib[:, :-1], columns=self.pre.feature_names)
        out["base_value"] = contrib[:, -1]
        return out


def _fit_raw(kind: str, x: np.ndarray, y: np.ndarray, seed: int) -> tuple[Any, list[float], float]:
    if kind == "logistic":
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=1.0, max_iter=2000).fit(x, y)
        return None, lr.coef_[0].tolist(), float(lr.intercept_[0])
    import lightgbm as lgb

    params = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 20,
              "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
              "verbose": -1, "seed": seed, "num_threads": 1}
    booster = lgb.train(params, lgb.Dataset(x, y), num_boost_round=200)
    return booster, [], 0.0


def train_classifier(frame: pd.DataFrame, target: str, *, kind: str = "logistic",
                     features: Sequence[str] | None = None, seed: int = 0, folds: int = 5) -> tuple[ClassifierModel,
                                                                                                     dict[str, Any]]:
    """Train a calibrated classifier and report out-of-fold metrics.

    Returns:
        ``(model, metrics)``: metrics are out-of-fold (``folds``-fold CV) AUC, Brier and ECE of the
        calibrated probabilities, and the out-of-fold predictions for a fairness report.
    """
    from sklearn.model_selection import StratifiedKFold

    from theralab.models.fairness import binary_metrics

    if kind not in CLASSIFIERS:
        raise InputError(f"unknown classifier {kind!r}", hint=f"one of {', '.join(CLASSIFIERS)}")
    if target not in frame.columns:
        raise InputError(f"target column {target!r} is not in the table")
    y = pd.to_numeric(frame[target], errors="coerce").to_numpy()
    if np.isnan(y).any() or not np.isin(y, (0, 1)).all():
        raise InputError(f"target {target} must be 0/1 with no gaps")
    if min(y.sum(), (1 - y).sum()) < folds:
        raise InputError(f"each class needs at least {folds} rows for {folds}-fold calibration")
    feats = list(features) if features else [c for c in frame.columns if c != target]
    oof_raw = np.zeros(len(frame))
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(frame, y):
        pre = Preprocessor.fit(frame.iloc[tr], feats)
        booster, coef, icpt = _fit_raw(kind, pre.transform(frame.iloc[tr]), y[tr], seed)
        part = ClassifierModel(kind, feats, pre, coef, icpt, booster)
        oof_raw[te] = part.raw(frame.iloc[te])
    from sklearn.linear_model import LogisticRegression

    platt = LogisticRegression(C=1e6, max_iter=1000).fit(oof_raw[:, None], y)
    a, b = float(platt.coef_[0, 0]), float(platt.intercept_[0])
    pre = Preprocessor.fit(frame, feats)
    x = pre.transform(frame)
    booster, coef, icpt = _fit_raw(kind, x, y, seed)
    model = ClassifierModel(kind, feats, pre, coef, icpt, booster, (a, b), x.mean(axis=0).tolist())
    oof = _sigmoid(a * oof_raw + b)
    metrics = {k: v for k, v in binary_metrics(y, oof).items() if k in ("n", "prevalence", "auc", "brier", "ece")}
    metrics["oof_probability"] = oof.tolist()
    return model, metrics


# ---------------------------------------------------------------- save / load (no pickle)

def save_model(model: ClassifierModel | SurvivalModel, out_dir: str | Path, *, name: str,
               metrics: dict[str, Any] | None = None, training: pd.DataFrame | None = None,
               extra: dict[str, Any] | None = None) -> Path:
    """Write the model directory with its card (``loader`` = :func:`load_model`, ``input`` = table)."""
    from theralab.models.registry import ModelCard, fingerprint_table, save_card

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    params: dict[str, Any] = {"kind": model.kind, "features": model.features, "pre": model.pre.to_dict()}
    weights = ["params.json"]
    if isinstance(model, ClassifierModel):
        task = "binary_classification"
        params.update({"coef": model.coef, "intercept": model.intercept, "platt": list(model.platt),
                       "x_mean": model.x_mean})
        if model.booster is not None:
            model.booster.save_model(str(out / "booster.txt"))
            weights.append("booster.txt")
    else:
        task = "survival"
        if model.kind == "rsf":
            raise ModelError("a random survival forest cannot be saved without pickle",
                             hint="save a 'cox' or 'neural_cox' model, or use the forest in-process")
        params.update({"params": model.params, "base_times": model.base_times.tolist(),
                       "base_cumhaz": model.base_cumhaz.tolist()})
        if model.kind == "neural_cox":
            import torch

            torch.save(model.estimator.state_dict(), out / "net.pt")
            params["net"] = {"in": int(model.estimator[0].in_features), "hidden": int(model.estimator[0].out_features)}
            weights.append("net.pt")
    (out / "params.json").write_text(json.dumps(params))
    card = ModelCard(name=name, task=task, metrics={k: v for k, v in (metrics or {}).items() if k != "oof_probability"},
                     training_data=fingerprint_table(training) if training is not None else {},
                     weights=dict.fromkeys(weights, ""),
                     retrain=f"theralab risk train --kind {model.kind} ...",
                     loader="theralab.precision.risk.clinical:load_model", input="table", **(extra or {}))
    save_card(out, card)
    return out


class LoadedRiskModel:
    """A saved clinical model behind the platform's predictor protocol (``card``, ``predict(frame)``)."""

    def __init__(self, card: Any, model: ClassifierModel | SurvivalModel, horizons: Sequence[float] = ()) -> None:
        self.card = card
        self.model = model
        self.horizons = list(horizons)

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``probability`` for classifiers; ``risk`` and ``survival_t<h>`` for survival models."""
        if isinstance(self.model, ClassifierModel):
            return pd.DataFrame({"probability": self.model.predict_proba(frame)})
        out = pd.DataFrame({"risk": self.model.risk(frame)})
        if self.horizons:
            surv = self.model.survival(frame, self.horizons)
            for i, h in enumerate(self.horizons):
                out[f"survival_t{h:g}"] = surv[:, i]
        return out


def load_model(model_dir: str | Path) -> LoadedRiskModel:
    """Load a saved clinical or survival model after checking its weights' checksums."""
    from theralab.models.registry import load_card

    model_dir = Path(model_dir)
    card = load_card(model_dir)
    params = json.loads((model_dir / "params.json").read_text())
    pre = Preprocessor.from_dict(params["pre"])
    if card.task == "binary_classification":
        booster = None
        if params["kind"] == "gbm":
            import lightgbm as lgb

            booster = lgb.Booster(model_file=str(model_dir / "booster.txt"))
        model: ClassifierModel | SurvivalModel = ClassifierModel(
            params["kind"], params["features"], pre, params["coef"], params["intercept"], booster,
            tuple(params["platt"]), params["x_mean"])
        return LoadedRiskModel(card, model)
    model = SurvivalModel(kind=params["kind"], features=params["features"], pre=pre, params=params["params"],
                          base_times=np.asarray(params["base_times"]), base_cumhaz=np.asarray(params["base_cumhaz"]))
    if params["kind"] == "neural_cox":
        import torch

        net = torch.nn.Sequential(torch.nn.Linear(params["net"]["in"], params["net"]["hidden"]), torch.nn.SELU(),
                                  torch.nn.Dropout(0.0), torch.nn.Linear(params["net"]["hidden"], 1))
        net.load_state_dict(torch.load(model_dir / "net.pt", weights_only=True))
        net.eval()
        model.estimator = net
    horizons = (card.model_extra or {}).get("horizons", [])
    return LoadedRiskModel(card, model, horizons)


def train_survival(frame: pd.DataFrame, duration: str, event: str, *, kind: str = "cox",
                   features: Sequence[str] | None = None, seed: int = 0, test_fraction: float = 0.25,
                   **options: Any) -> tuple[SurvivalModel, dict[str, Any]]:
    """Fit on a random ``1 - test_fraction`` share, report metrics on the rest, then refit on all rows."""
    from sklearn.model_selection import train_test_split

    if len(frame) < 20:
        raise InputError(f"{len(frame)} rows are too few to train and evaluate a survival model (need >= 20)")
    tr_pos, te_pos = train_test_split(np.arange(len(frame)), test_size=test_fraction, random_state=seed,
                                      stratify=frame[event] if frame[event].nunique() == 2 else None)
    train, test = frame.iloc[tr_pos], frame.iloc[te_pos]
    held = fit_survival(train, duration, event, kind=kind, features=features, seed=seed, **options)
    metrics = evaluate_survival(held, test, duration, event, train=train)
    metrics["test_risk"] = held.risk(test).tolist()
    metrics["test_positions"] = te_pos.tolist()
    model = fit_survival(frame, duration, event, kind=kind, features=features, seed=seed, **options)
    return model, metrics
