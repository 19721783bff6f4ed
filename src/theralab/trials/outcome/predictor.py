"""Train, save, load and apply a trial-outcome model (LightGBM baseline + optional three-modality network).

A model directory holds ``gbm.txt`` (LightGBM text), optionally ``net.pt`` (a torch state dict),
``params.json`` (calibration maps, thresholds, the network's scaler, feature columns),
``reference.npz`` (the training trials for nearest-neighbour look-ups) and the card ``model.json``
(:mod:`theralab.models.registry`) with checksums, training-data fingerprint and out-of-fold metrics.
No weights are shipped: TOP is for evaluation only, so users train their own models with
``theralab trials outcome train``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from theralab.errors import InputError, ModelError
from theralab.models.registry import ModelCard, fingerprint_table, load_card, save_card
from theralab.trials.outcome.features import FEATURE_VERSION, FeatureSet, columns, featurize
from theralab.trials.outcome.models.calibration import Calibrator, best_threshold, fit_calibrator, metrics
from theralab.trials.outcome.neighbors import Reference
from theralab.trials.outcome.schemas import TrialRecord

TASK = "trial-outcome"
MIN_TRIALS = 20


@dataclass
class OutcomeModel:
    """A trained outcome model: calibrated probabilities of success, explanations, similar trials."""

    columns: list[str]
    admet: bool
    booster: Any
    calibrator: Calibrator
    threshold: float
    reference: Reference
    card: ModelCard
    net: Any = None
    scaler: Any = None
    net_calibrator: Calibrator | None = None
    net_threshold: float = 0.5
    oof: dict[str, Any] = field(default_factory=dict)

    @property
    def text_hash(self) -> bool:
        """Whether the model reads the hashed criteria-words block."""
        return any(c.startswith("elig_word_") for c in self.columns)

    def features(self, records: list[TrialRecord], *, cache_dir: Path | None = None,
                 keep_criteria: bool = False, progress: Any = None) -> FeatureSet:
        """Features of ``records`` with this model's columns."""
        fs = featurize(records, admet=self.admet, text_hash=self.text_hash, cache_dir=cache_dir,
                       keep_criteria=keep_criteria, progress=progress)
        fs.frame = fs.frame[self.columns]
        return fs

    def predict_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Calibrated probabilities of success per trial: ``prob`` (LightGBM), ``prob_neural``, ``predicted``."""
        from theralab.trials.outcome.models.gbm import predict_raw

        x = frame[self.columns]
        out = pd.DataFrame(index=x.index)
        out["prob"] = self.calibrator(predict_raw(self.booster, x))
        out["predicted"] = (out["prob"] >= self.threshold).astype(int)
        if self.net is not None and self.net_calibrator is not None:
            from theralab.trials.outcome.models.neural import predict_net

            out["prob_neural"] = self.net_calibrator(predict_net(self.net, self.scaler, x))
            out["prob_mean"] = (out["prob"] + out["prob_neural"]) / 2
        return out

    def contributions(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        """Exact TreeSHAP contributions (log-odds of the uncalibrated LightGBM score) and expected values."""
        from theralab.trials.outcome.models.gbm import shap_values

        return shap_values(self.booster, frame[self.columns])

    def save(self, model_dir: Path) -> Path:
        """Write the model directory and its card (checksums of every file)."""
        import torch

        model_dir = Path(model_dir)
        model_dir.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(model_dir / "gbm.txt"))
        params: dict[str, Any] = {"columns": self.columns, "admet": self.admet, "feature_version": FEATURE_VERSION,
                                  "calibration": self.calibrator.to_dict(), "threshold": self.threshold}
        files = ["gbm.txt", "params.json", "reference.npz"]
        if self.net is not None:
            torch.save(self.net.state_dict(), model_dir / "net.pt")
            params.update(net_calibration=self.net_calibrator.to_dict() if self.net_calibrator else None,
                          net_threshold=self.net_threshold, scaler_mean=self.scaler.mean.tolist(),
                          scaler_std=self.scaler.std.tolist())
            files.append("net.pt")
        (model_dir / "params.json").write_text(json.dumps(params))
        self.reference.save(model_dir / "reference.npz")
        self.card.weights = dict.fromkeys(files, "")
        save_card(model_dir, self.card)
        return model_dir


def train_model(records: list[TrialRecord], *, name: str = "trial-outcome", neural: bool = True, folds: int = 5,
                calibration: str = "platt", seed: int = 0, admet: bool = False, text_hash: bool = False,
                cache_dir: Path | None = None,
                features: FeatureSet | None = None, gbm_params: dict[str, Any] | None = None,
                rounds: int | None = None, epochs: int = 80, source: str = "") -> OutcomeModel:
    """Train on labelled historical trials.

    Out-of-fold predictions (``folds`` stratified folds) calibrate the probabilities and pick the F1
    threshold; the final models are fitted on all trials.

    Raises:
        InputError: fewer than 20 labelled trials, or only one outcome among them.
    """
    from theralab.trials.outcome.models import gbm

    labelled = [r for r in records if r.label is not None]
    if len(labelled) < MIN_TRIALS:
        raise InputError(f"{len(labelled)} labelled trials; training needs at least {MIN_TRIALS}", where="records",
                         hint="give trials with a 'label' (1 success, 0 failure)")
    ids = [r.nct_id for r in labelled]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise InputError(f"trial ids must be unique; repeated: {', '.join(dup)}", where="records.nct_id")
    y = np.array([r.label for r in labelled])
    if len(set(y.tolist())) < 2 or min(np.bincount(y)) < folds:
        raise InputError(f"need at least {folds} successes and {folds} failures; have {int(y.sum())} and "
                         f"{int(len(y) - y.sum())}", where="records.label")
    fs = features if features is not None else featurize(labelled, admet=admet, text_hash=text_hash,
                                                         cache_dir=cache_dir)
    x = fs.frame.loc[[r.nct_id for r in labelled], columns(admet, text_hash)]
    rounds = rounds or gbm.DEFAULT_ROUNDS
    oof = gbm.oof_predict(x, y, folds=folds, seed=seed, params=gbm_params, rounds=rounds)
    cal = fit_calibrator(oof, y, calibration)
    threshold = best_threshold(cal(oof), y)
    booster = gbm.fit_booster(x, y, params=gbm_params, rounds=rounds, seed=seed)
    oof_metrics = {"gbm": metrics(cal(oof), y, threshold)}
    net = scaler = net_cal = None
    net_threshold = 0.5
    if neural:
        from theralab.trials.outcome.models import neural as nn_mod

        oof_n = nn_mod.oof_predict_net(x, y, folds=folds, seed=seed, epochs=epochs)
        net_cal = fit_calibrator(oof_n, y, calibration)
        net_threshold = best_threshold(net_cal(oof_n), y)
        oof_metrics["neural"] = metrics(net_cal(oof_n), y, net_threshold)
        net, scaler = nn_mod.fit_net(x, y, seed=seed, epochs=epochs)
    card = ModelCard(name=name, task=TASK, description="Probability that a clinical trial succeeds (TOP label 1), "
                     "LightGBM on drug, disease, eligibility and design features"
                     + (" plus a three-modality network" if neural else ""),
                     training_data={**fingerprint_table(x.reset_index()), "source": source,
                                    "positives": int(y.sum())},
                     metrics={"out_of_fold": oof_metrics, "folds": folds, "calibration": calibration},
                     seeds=[seed], retrain=f"theralab trials outcome train {source or 'TRIALS.csv'} --name {name}")
    return OutcomeModel(list(x.columns), admet, booster, cal, threshold, Reference.build(labelled, x), card,
                        net, scaler, net_cal, net_threshold, oof_metrics)


def load_model(model_dir: str | Path) -> OutcomeModel:
    """Load a model directory written by :meth:`OutcomeModel.save`, verifying checksums first."""
    import torch

    from theralab.trials.outcome.models.gbm import load_booster
    from theralab.trials.outcome.models.neural import Scaler, block_index, build_net

    model_dir = Path(model_dir)
    card = load_card(model_dir)
    if card.task != TASK:
        raise ModelError(f"model {card.name} is a {card.task!r} model, not {TASK!r}", where=str(model_dir))
    params = json.loads((model_dir / "params.json").read_text())
    if params.get("feature_version") != FEATURE_VERSION:
        raise ModelError(f"model {card.name} was trained on feature version {params.get('feature_version')}, "
                         f"this theralab computes version {FEATURE_VERSION}", hint="retrain it: " + card.retrain)
    cols = list(params["columns"])
    model = OutcomeModel(cols, bool(params["admet"]), load_booster(str(model_dir / "gbm.txt")),
                         Calibrator(**params["calibration"]), float(params["threshold"]),
                         Reference.load(model_dir / "reference.npz"), card)
    if (model_dir / "net.pt").exists() and params.get("net_calibration"):
        idx = block_index(cols)
        net = build_net({m: len(c) for m, c in idx.items()})
        net.load_state_dict(torch.load(model_dir / "net.pt", map_location="cpu", weights_only=True))
        net.eval()
        model.net, model.scaler = net, Scaler(np.array(params["scaler_mean"]), np.array(params["scaler_std"]))
        model.net_calibrator = Calibrator(**params["net_calibration"])
        model.net_threshold = float(params["net_threshold"])
    return model


def resolve_model(name_or_dir: str) -> OutcomeModel:
    """A model by directory or registered name."""
    from theralab.models.base import resolve_model_dir

    return load_model(resolve_model_dir(name_or_dir))


_LOADED: dict[tuple[str, float], OutcomeModel] = {}


def load_registered_model(name: str) -> OutcomeModel:
    """A registered outcome model by name, loaded once per model version per process (API and web).

    Only a registered name is accepted, never a path: the surfaces pass user input straight here.
    """
    from theralab.models.registry import find_model

    if not name or any(ch in name for ch in "/\\") or name.startswith("."):
        raise InputError("give a registered model name, not a path", where="model",
                         hint="GET /v1/trials/outcome/models lists them")
    path = find_model(name)
    key = (str(path), (path / "model.json").stat().st_mtime)
    if key not in _LOADED:
        _LOADED.clear()
        _LOADED[key] = load_model(path)
    return _LOADED[key]
