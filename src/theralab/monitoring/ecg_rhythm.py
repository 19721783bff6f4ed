"""Rhythm classification of short single-lead ECGs: normal (N), AF (A), other (O), noisy (~).

Why gradient boosting on hand-made features: with about two thousand labelled recordings a
feature model (see :mod:`theralab.monitoring.ecg_features`) trains in seconds on a laptop, ships
as a few hundred kilobytes of text, and each prediction can be explained by named features
(RR irregularity, P-wave absence, f-wave power). The shipped model is trained by
:func:`train_and_save` on the PhysioNet/CinC Challenge 2017 recordings (ODC-By 1.0; attribution:
Clifford GD et al., "AF Classification from a Short Single Lead ECG Recording: the
PhysioNet/Computing in Cardiology Challenge 2017", CinC 2017), and its card records the data
fingerprint, cross-validated metrics and the sha256 of the weights.

The score is the Challenge's: F1 of N, A and O averaged (the noisy class is predicted but not
scored), computed from out-of-fold predictions of a stratified 5-fold cross-validation.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from theralab.errors import InputError, NotFoundError

CLASSES = ("N", "A", "O", "~")
CLASS_NAMES = {"N": "normal sinus rhythm", "A": "atrial fibrillation", "O": "other rhythm", "~": "too noisy"}
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights" / "af_classifier"

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


def cinc_f1(y_true: Iterable[str], y_pred: Iterable[str]) -> dict[str, float]:
    """Per-class F1 (2 x TP / (|true| + |predicted|)) and the CinC 2017 score (mean of N, A, O)."""
    t, p = np.asarray(list(y_true)), np.asarray(list(y_pred))
    out: dict[str, float] = {}
    for c in CLASSES:
        denom = np.sum(t == c) + np.sum(p == c)
        out[c] = float(2 * np.sum((t == c) & (p == c)) / denom) if denom else float("nan")
    out["cinc_f1"] = float(np.mean([out["N"], out["A"], out["O"]]))
    return out


def load_cinc(directory: Path) -> pd.DataFrame:
    """The REFERENCE.csv labels of a CinC 2017 folder (record, label), checked."""
    ref = Path(directory) / "REFERENCE.csv"
    if not ref.is_file():
        raise NotFoundError(
            f"no REFERENCE.csv in {directory}", where=str(directory), hint="point at the CinC 2017 training2017 folder"
        )
    df = pd.read_csv(ref, header=None, names=["record", "label"], dtype=str)
    bad = df[~df.label.isin(CLASSES)]
    if len(bad):
        raise InputError(
            f"unknown label {bad.label.iloc[0]!r}", where=f"{ref}:{bad.index[0] + 1}", hint="labels are N, A, O or ~"
        )
    return df


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

    from theralab.monitoring import ecg_features, ecg_qrs
    from theralab.monitoring.ecg_features import extract_features

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


def data_fingerprint(directory: Path) -> str:
    """sha256 over REFERENCE.csv and the sorted names and sizes of the signal files."""
    d = Path(directory)
    h = hashlib.sha256((d / "REFERENCE.csv").read_bytes())
    for f in sorted(d.glob("*.mat")):
        h.update(f"{f.name}:{f.stat().st_size}".encode())
    return h.hexdigest()


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


def train_and_save(
    directory: Path,
    out_dir: Path = WEIGHTS_DIR,
    cache: Path | None = None,
    folds: int = 5,
    metrics: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Cross-validate (unless ``metrics`` from :func:`cross_validate` are given), fit on all
    records, and write ``model.txt`` + ``model.json`` (the card)."""
    df = feature_table(directory, cache)
    if metrics is None:
        metrics, _ = cross_validate(df, folds)
    X, y = _xy(df)
    model = _fit(X, y)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = out_dir / "model.txt"
    model.save_model(str(weights))
    card = {
        "name": "theralab-af-classifier",
        "task": "single-lead ECG rhythm: N normal, A atrial fibrillation, O other rhythm, ~ noisy",
        "version": "1.0.0",
        "model": "LightGBM multiclass on theralab.monitoring.ecg_features",
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
        "metrics": {
            "cv": f"stratified {folds}-fold, out-of-fold predictions",
            **{f"f1_{k}" if k in CLASSES else k: round(v, 4) for k, v in metrics.items()},
        },
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "weights": "model.txt",
        "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "retrain": "python benchmarks/monitoring_af.py --data ../shared/data/monitoring/cinc2017 --save",
        "intended_use": "research and decision support on 9-60 s single-lead ECG; not a diagnostic device",
    }
    (out_dir / "model.json").write_text(json.dumps(card, indent=2) + "\n")
    return card


@dataclass(frozen=True)
class RhythmPrediction:
    """The predicted rhythm class with class probabilities."""

    label: str
    name: str
    probabilities: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "name": self.name, "probabilities": self.probabilities}


class RhythmClassifier:
    """The shipped (or any retrained) rhythm model; load once, predict many."""

    def __init__(self, model: Any, card: dict[str, Any]) -> None:
        self.model = model
        self.card = card

    @classmethod
    def load(cls, directory: Path = WEIGHTS_DIR) -> RhythmClassifier:
        """Load and verify the model: its sha256 must match the card, or the weights were altered."""
        import lightgbm as lgb

        d = Path(directory)
        card_path = d / "model.json"
        if not card_path.is_file():
            raise NotFoundError(
                f"no rhythm model card at {card_path}",
                where=str(d),
                hint="train one: python benchmarks/monitoring_af.py --save",
            )
        card = json.loads(card_path.read_text())
        weights = d / card["weights"]
        digest = hashlib.sha256(weights.read_bytes()).hexdigest()
        if digest != card["sha256"]:
            raise InputError(
                "rhythm model weights do not match their card's sha256",
                where=str(weights),
                hint="retrain the model or restore the shipped files",
            )
        return cls(lgb.Booster(model_file=str(weights)), card)

    def predict_features(self, feats: dict[str, float]) -> RhythmPrediction:
        cols = self.card["features"]
        X = pd.DataFrame([[feats.get(c, np.nan) for c in cols]], columns=cols, dtype=float)
        prob = self.model.predict(X)[0]
        k = int(np.argmax(prob))
        label = CLASSES[k]
        return RhythmPrediction(
            label, CLASS_NAMES[label], {c: round(float(p), 4) for c, p in zip(CLASSES, prob, strict=True)}
        )

    def predict(self, ecg: np.ndarray, fs: float, peaks: np.ndarray | None = None) -> RhythmPrediction:
        """Classify one ECG excerpt (ideally 9-60 s, as in training)."""
        from theralab.monitoring.ecg_features import extract_features

        return self.predict_features(extract_features(ecg, fs, peaks))
