"""Rhythm classification of short single-lead ECGs: normal (N), AF (A), other (O), noisy (~).

Why gradient boosting on hand-made features: with about two thousand labelled recordings a
feature model (see :mod:`theralab.monitoring.ecg.features`) trains in seconds on a laptop, ships
as a few hundred kilobytes of text, and each prediction can be explained by named features
(RR irregularity, P-wave absence, f-wave power). The shipped model is trained by
:func:`train_and_save` on the PhysioNet/CinC Challenge 2017 recordings (ODC-By 1.0; attribution:
Clifford GD et al., "AF Classification from a Short Single Lead ECG Recording: the
PhysioNet/Computing in Cardiology Challenge 2017", CinC 2017), and its card records the data
fingerprint, cross-validated metrics and the sha256 of the weights.

Why a CNN next to it (version 2): the features plateau at CinC F1 ~0.78 however many are added;
a small 1-D CNN on the raw 100 Hz ECG (:mod:`theralab.monitoring.ecg.cnn`) is about as good alone but
errs on different records, and the plain mean of the two probability vectors reaches 0.805
(:func:`cross_validate_ensemble`, both fitted on the training folds only, weight fixed in advance).

The score is the Challenge's: F1 of N, A and O averaged (the noisy class is predicted but not
scored), computed from out-of-fold predictions of a stratified 5-fold cross-validation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from theralab.errors import InputError, NotFoundError
from theralab.monitoring.ecg.cinc import CLASSES, data_fingerprint, load_cinc

#: labels as a reader wants them (the CinC codes N, A, O, ~ stay in JSON as ``label``)
CLASS_NAMES = {"N": "Normal", "A": "AF", "O": "Other rhythm", "~": "Noisy"}
WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights" / "af_classifier"

LGB_PARAMS: dict[str, Any] = {
    "objective": "multiclass",
    "num_class": 4,
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_child_samples": 10,
    "feature_fraction": 0.7,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "verbose": -1,
    "num_threads": 1,
    "seed": 7,
}
NUM_ROUNDS = 300
CROPS = 0  # augmented crops per record in training (see feature_table)
# class weights counter the imbalance (N 59 %, O 29 %, A 9 %, ~ 3 %) so AF is not drowned
CLASS_WEIGHT = {"N": 1.0, "A": 2.5, "O": 1.3, "~": 2.0}
# share of the feature model in the averaged probabilities; fixed before the CV was run (no tuning)
ENSEMBLE_WEIGHT_LGB = 0.5


def cinc_f1(y_true: Iterable[str], y_pred: Iterable[str]) -> dict[str, float]:
    """Per-class F1 (2 x TP / (|true| + |predicted|)) and the CinC 2017 score (mean of N, A, O)."""
    t, p = np.asarray(list(y_true)), np.asarray(list(y_pred))
    out: dict[str, float] = {}
    for c in CLASSES:
        denom = np.sum(t == c) + np.sum(p == c)
        out[c] = float(2 * np.sum((t == c) & (p == c)) / denom) if denom else float("nan")
    out["cinc_f1"] = float(np.mean([out["N"], out["A"], out["O"]]))
    return out


def feature_table(
    directory: Path,
    cache: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    crops: int = CROPS,
) -> pd.DataFrame:
    """Features of every record in a CinC folder, plus ``label``, cached as Parquet.

    Row ``crop == 0`` is the whole record; with ``crops`` = 2 or 3, extra rows hold the features of
    the first, last (and middle) two thirds of the record. Why: the crops are augmented training
    examples (the label holds for any long stretch of a 9-60 s excerpt), which teaches the model
    features measured on shorter, noisier stretches; evaluation uses whole records only.

    The cache is keyed by the data fingerprint, the crop count and a hash of the feature and QRS
    code, so changed data or features are recomputed.
    """
    import wfdb

    from theralab.monitoring.ecg import features as ecg_features
    from theralab.monitoring.ecg import qrs as ecg_qrs
    from theralab.monitoring.ecg.features import extract_features

    labels = load_cinc(directory)
    fp = data_fingerprint(directory)
    code = hashlib.sha256(Path(ecg_features.__file__).read_bytes() + Path(ecg_qrs.__file__).read_bytes())
    if cache is not None:
        cfile = Path(cache) / f"cinc_features_{fp[:12]}_{code.hexdigest()[:8]}_c{crops}.parquet"
        if cfile.is_file():
            return pd.read_parquet(cfile)
    rows = []
    for k, rec in enumerate(labels.record):
        r = wfdb.rdrecord(str(Path(directory) / rec))
        x, fs = r.p_signal[:, 0], float(r.fs)
        rows.append({"record": rec, "crop": 0, **extract_features(x, fs)})
        n, m = x.size, (2 * x.size) // 3
        starts = [0, n - m, (n - m) // 2][:crops] if m >= 9 * fs else []
        for j, s0 in enumerate(starts, start=1):
            rows.append({"record": rec, "crop": j, **extract_features(x[s0 : s0 + m], fs)})
        if progress:
            progress(k + 1, len(labels))
    df = pd.DataFrame(rows).merge(labels, on="record")
    if cache is not None:
        Path(cache).mkdir(parents=True, exist_ok=True)
        df.to_parquet(cfile)
    return df


def _xy(df: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    X = df.drop(columns=[c for c in ("record", "label", "crop") if c in df.columns]).astype(float)
    y = df["label"].map({c: i for i, c in enumerate(CLASSES)}).to_numpy() if "label" in df else None
    return X, y


def _fit(X: pd.DataFrame, y: np.ndarray, rounds: int = NUM_ROUNDS):
    import lightgbm as lgb

    w = np.array([CLASS_WEIGHT[CLASSES[i]] for i in y])
    return lgb.train(LGB_PARAMS, lgb.Dataset(X, y, weight=w), num_boost_round=rounds)


def cross_validate(df: pd.DataFrame, folds: int = 5, seed: int = 7) -> tuple[dict[str, float], np.ndarray]:
    """Stratified k-fold CV over records; returns CinC F1 metrics from out-of-fold predictions of
    whole records (``crop == 0``) and those predictions. Crops of a test record never train."""
    from sklearn.model_selection import StratifiedKFold

    if "crop" not in df.columns:
        df = df.assign(crop=0)
    full = df[df["crop"] == 0].reset_index(drop=True)
    X, y = _xy(df)
    Xf, yf = _xy(full)
    pred = np.empty(len(yf), dtype=object)
    fold_scores = []
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(Xf, yf):
        train_rows = df["record"].isin(set(full["record"].iloc[tr])).to_numpy()
        model = _fit(X[train_rows], y[train_rows])
        p = np.asarray(CLASSES)[np.argmax(model.predict(Xf.iloc[te]), axis=1)]
        pred[te] = p
        fold_scores.append(cinc_f1(np.asarray(CLASSES)[yf[te]], p)["cinc_f1"])
    metrics = cinc_f1(np.asarray(CLASSES)[yf], pred)
    metrics["fold_sd"] = float(np.std(fold_scores))
    return metrics, pred


@dataclass(frozen=True)
class EnsembleCV:
    """Out-of-fold class probabilities (records x 4, order :data:`CLASSES`) of each model.

    All three come from the same folds, so their scores compare like with like.
    """

    labels: np.ndarray
    lgb: np.ndarray
    cnn: np.ndarray
    folds: np.ndarray  # test-fold index of every record
    weight_lgb: float = ENSEMBLE_WEIGHT_LGB

    @property
    def ensemble(self) -> np.ndarray:
        return self.weight_lgb * self.lgb + (1 - self.weight_lgb) * self.cnn

    def metrics(self, which: str = "ensemble") -> dict[str, float]:
        """CinC F1 metrics of ``lgb``, ``cnn`` or ``ensemble`` plus the SD of the per-fold score."""
        prob = getattr(self, which)
        pred = np.asarray(CLASSES)[np.argmax(prob, axis=1)]
        m = cinc_f1(self.labels, pred)
        per_fold = [
            cinc_f1(self.labels[self.folds == k], pred[self.folds == k])["cinc_f1"] for k in np.unique(self.folds)
        ]
        m["fold_sd"] = float(np.std(per_fold))
        return m


def cross_validate_ensemble(
    df: pd.DataFrame,
    signals: list[np.ndarray],
    folds: int = 5,
    seed: int = 7,
    cnn_params: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> EnsembleCV:
    """Stratified k-fold CV of the feature model, the CNN and their average, on the same folds.

    Protocol (why it is honest): the folds are those of :func:`cross_validate` (same seed); in each
    fold both models are fitted on the training records only, with hyper-parameters and the
    ensemble weight fixed in advance, and predict the test records whole. ``signals`` are the
    :func:`theralab.monitoring.ecg.cnn.preprocess` outputs in the row order of the whole-record
    rows of ``df``.
    """
    from sklearn.model_selection import StratifiedKFold

    from theralab.monitoring.ecg import cnn as ecg_cnn

    if "crop" not in df.columns:
        df = df.assign(crop=0)
    full = df[df["crop"] == 0].reset_index(drop=True)
    if len(signals) != len(full):
        raise InputError(f"{len(signals)} signals for {len(full)} records", where="signals")
    X, y = _xy(df)
    Xf, yf = _xy(full)
    p_lgb, p_cnn = np.zeros((len(yf), 4)), np.zeros((len(yf), 4))
    fold_of = np.zeros(len(yf), dtype=int)
    cw = [CLASS_WEIGHT[c] for c in CLASSES]
    for k, (tr, te) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=seed).split(Xf, yf)):
        train_rows = df["record"].isin(set(full["record"].iloc[tr])).to_numpy()
        p_lgb[te] = _fit(X[train_rows], y[train_rows]).predict(Xf.iloc[te])
        log = None
        if progress:
            log = lambda e, n, loss, k=k: progress(f"fold {k + 1} CNN epoch {e}/{n}, loss {loss:.3f}")  # noqa: E731
        net = ecg_cnn.train([signals[i] for i in tr], yf[tr], cw, cnn_params, seed=seed + k, progress=log)
        p_cnn[te] = ecg_cnn.predict_proba(net, [signals[i] for i in te])
        fold_of[te] = k
        if progress:
            t, w = np.asarray(CLASSES)[yf[te]], ENSEMBLE_WEIGHT_LGB
            f1 = {
                name: cinc_f1(t, np.asarray(CLASSES)[np.argmax(pr[te], axis=1)])["cinc_f1"]
                for name, pr in (("lgb", p_lgb), ("cnn", p_cnn), ("ensemble", w * p_lgb + (1 - w) * p_cnn))
            }
            progress(f"fold {k + 1}/{folds}: CinC F1 " + ", ".join(f"{n} {v:.3f}" for n, v in f1.items()))
    return EnsembleCV(np.asarray(CLASSES)[yf], p_lgb, p_cnn, fold_of)


def train_and_save(
    directory: Path,
    out_dir: Path = WEIGHTS_DIR,
    cache: Path | None = None,
    folds: int = 5,
    metrics: dict[str, Any] | None = None,
    cnn: bool = True,
    seed: int = 7,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Fit the feature model (and, with ``cnn``, the network) on all records and write the weights
    and the card ``model.json``.

    ``metrics`` are the cross-validated figures to record on the card, ``{"final": ..., "lgb": ...,
    "cnn": ...}`` (from the benchmark run that precedes the refit; when absent they are computed
    here with :func:`cross_validate_ensemble`, or :func:`cross_validate` without ``cnn``). The
    final model's figures go to the top level of the card's ``metrics``, the components' under
    their names.
    """
    df = feature_table(directory, cache)
    if metrics is None and cnn:
        from theralab.monitoring.ecg.cnn import cinc_signals

        cv = cross_validate_ensemble(df, cinc_signals(directory, cache), folds, seed, progress=progress)
        metrics = {"final": cv.metrics("ensemble"), "lgb": cv.metrics("lgb"), "cnn": cv.metrics("cnn")}
    elif metrics is None:
        metrics = {"final": cross_validate(df, folds, seed)[0]}
    X, y = _xy(df)
    model = _fit(X, y)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = out_dir / "model.txt"
    model.save_model(str(weights))
    card: dict[str, Any] = {
        "name": "af_classifier",
        "task": "single-lead ECG rhythm: N normal, A atrial fibrillation, O other rhythm, ~ noisy",
        "version": "2.0.0" if cnn else "1.0.0",
        "description": "LightGBM multiclass on theralab.monitoring.ecg.features"
        + (", averaged with a 1-D CNN on the 100 Hz ECG (theralab.monitoring.ecg.cnn)" if cnn else ""),
        "features": list(X.columns),
        "classes": list(CLASSES),
        "params": LGB_PARAMS | {"num_boost_round": NUM_ROUNDS, "class_weight": CLASS_WEIGHT},
        "training_data": {
            "name": "PhysioNet/CinC Challenge 2017 training set, stratified quarter (2,131 records, 300 Hz)",
            "licence": "ODC-By 1.0 (attribution: Clifford et al., CinC 2017)",
            "fingerprint_sha256": data_fingerprint(directory),
            "n_records": int((df["crop"] == 0).sum()),
            "class_counts": {c: int(((df.label == c) & (df["crop"] == 0)).sum()) for c in CLASSES},
            "augmented_crops_per_record": CROPS,
        },
        "metrics": {"cv": f"stratified {folds}-fold (StratifiedKFold shuffle, random_state {seed}), out-of-fold"}
        | _round(metrics["final"])
        | {name: _round(m) for name, m in metrics.items() if name != "final"},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed_roles": {"folds": seed, "lightgbm": LGB_PARAMS["seed"]},
        "retrain": "python benchmarks/monitoring_af.py --data ../shared/data/monitoring/cinc2017 --save",
        "loader": "theralab.monitoring.ecg.rhythm:RhythmClassifier.load",
        "intended_use": "research and decision support on 9-60 s single-lead ECG; not a diagnostic device",
    }
    if cnn:
        import torch

        from theralab.monitoring.ecg import cnn as ecg_cnn

        signals = ecg_cnn.cinc_signals(directory, cache)
        yf = _xy(df[df["crop"] == 0])[1]
        net = ecg_cnn.train(
            signals,
            yf,
            [CLASS_WEIGHT[c] for c in CLASSES],
            seed=seed,
            progress=(lambda e, n, loss: progress(f"CNN epoch {e}/{n}, loss {loss:.3f}")) if progress else None,
        )
        cnn_path = out_dir / "cnn.pt"
        ecg_cnn.save(net, cnn_path)
        card["cnn"] = {
            "weights": "cnn.pt",
            "n_parameters": int(sum(p.numel() for p in net.parameters())),
            "input": f"{ecg_cnn.FS:g} Hz, band-pass 0.5-40 Hz, scaled to median per-second peak amplitude",
            "params": ecg_cnn.CNN_PARAMS,
            "seed": seed,
            "torch": torch.__version__,
        }
        card["ensemble"] = {"weight_lightgbm": ENSEMBLE_WEIGHT_LGB, "weight_cnn": 1 - ENSEMBLE_WEIGHT_LGB}
        card["seed_roles"]["cnn"] = seed
    from theralab.models.registry import ModelCard, save_card

    card["seeds"] = sorted(set(card["seed_roles"].values()))
    names = ["model.txt"] + (["cnn.pt"] if cnn else [])
    saved = save_card(out_dir, ModelCard(**card, weights=dict.fromkeys(names, "")))
    return saved.model_dump()


def _round(m: dict[str, float]) -> dict[str, float]:
    return {f"f1_{k}" if k in CLASSES else k: round(float(v), 4) for k, v in m.items()}


@dataclass(frozen=True)
class RhythmPrediction:
    """The predicted rhythm class with class probabilities."""

    label: str
    name: str
    probabilities: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "name": self.name, "probabilities": self.probabilities}


class RhythmClassifier:
    """The shipped (or any retrained) rhythm model; load once, predict many.

    With a card that names a CNN, :meth:`predict` averages the feature model's and the network's
    probabilities (weights on the card); excerpts shorter than the network's minimum use the
    feature model alone.
    """

    def __init__(self, model: Any, card: dict[str, Any], cnn: Any = None) -> None:
        self.model = model
        self.card = card
        self.cnn = cnn

    @classmethod
    def load(cls, directory: Path = WEIGHTS_DIR) -> RhythmClassifier:
        """Load and verify the model: each weight file's sha256 must match the card."""
        import lightgbm as lgb

        d = Path(directory)
        card_path = d / "model.json"
        if not card_path.is_file():
            raise NotFoundError(
                f"no rhythm model card at {card_path}",
                where=str(d),
                hint="train one: python benchmarks/monitoring_af.py --save",
            )
        from theralab.models.registry import load_card

        card = load_card(d).model_dump()  # verifies every weight file's sha256 before loading
        booster = lgb.Booster(model_file=str(d / "model.txt"))
        net = None
        if "cnn" in card:
            from theralab.monitoring.ecg import cnn as ecg_cnn

            net = ecg_cnn.load(d / card["cnn"]["weights"])
        return cls(booster, card, net)

    @classmethod
    def shipped(cls) -> RhythmClassifier:
        """The shipped model, loaded once per process (loading torch and weights takes ~1 s)."""
        global _SHIPPED
        if _SHIPPED is None:
            _SHIPPED = cls.load()
        return _SHIPPED

    def _result(self, prob: np.ndarray) -> RhythmPrediction:
        label = CLASSES[int(np.argmax(prob))]
        return RhythmPrediction(
            label, CLASS_NAMES[label], {c: round(float(p), 4) for c, p in zip(CLASSES, prob, strict=True)}
        )

    def _lgb_proba(self, feats: dict[str, float]) -> np.ndarray:
        cols = self.card["features"]
        X = pd.DataFrame([[feats.get(c, np.nan) for c in cols]], columns=cols, dtype=float)
        return np.asarray(self.model.predict(X)[0], dtype=float)

    def predict_features(self, feats: dict[str, float]) -> RhythmPrediction:
        """Feature model alone (for callers that only have the features)."""
        return self._result(self._lgb_proba(feats))

    def predict(self, ecg: np.ndarray, fs: float, peaks: np.ndarray | None = None) -> RhythmPrediction:
        """Classify one ECG excerpt (ideally 9-60 s, as in training)."""
        from theralab.monitoring.ecg.features import extract_features

        prob = self._lgb_proba(extract_features(ecg, fs, peaks))
        if self.cnn is not None and np.size(ecg) >= _cnn_min_samples(fs):
            from theralab.monitoring.ecg import cnn as ecg_cnn

            p_cnn = ecg_cnn.predict_proba(self.cnn, [ecg_cnn.preprocess(ecg, fs)])[0]
            w = float(self.card["ensemble"]["weight_lightgbm"])
            prob = w * prob + (1 - w) * p_cnn
        return self._result(prob)


_SHIPPED: RhythmClassifier | None = None


def _cnn_min_samples(fs: float) -> float:
    from theralab.monitoring.ecg.cnn import MIN_S

    return MIN_S * fs
