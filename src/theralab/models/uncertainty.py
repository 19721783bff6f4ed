"""Model-agnostic uncertainty: split-conformal intervals, probability calibration, domain distance.

Why these three. A point prediction without a range invites over-trust, so regression outputs
carry a split-conformal interval (Vovk et al. 2005; Lei et al. 2018): on a calibration set the
model never trained on, take the ``ceil((n+1)(1-alpha))``-th smallest absolute residual ``q``;
then ``[y_hat - q, y_hat + q]`` covers a new exchangeable point with probability at least
``1 - alpha`` (and at most ``1 - alpha + 1/(n+1)``). Classifier scores from boosted trees and
neural nets are usually over-confident, so they are recalibrated with Platt scaling (a logistic
fit of the label on the logit of the score, on the calibration set). Neither says whether a
molecule resembles the training data, so every prediction also carries its Tanimoto similarity
to the nearest training molecule (applicability domain).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from theralab.errors import InputError


@dataclass(frozen=True)
class ConformalRegressor:
    """A split-conformal interval half-width ``q`` for miscoverage ``alpha``."""

    alpha: float
    q: float
    n_calibration: int

    def interval(self, prediction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds around point predictions."""
        prediction = np.asarray(prediction, dtype=float)
        return prediction - self.q, prediction + self.q

    def to_dict(self) -> dict[str, Any]:
        """JSON form for a model directory."""
        return asdict(self)


def conformal_quantile(residuals: np.ndarray, alpha: float = 0.1) -> float:
    """The finite-sample split-conformal quantile of absolute residuals.

    Raises:
        InputError: fewer calibration points than ``1/alpha - 1`` (the interval would be infinite).
    """
    scores = np.sort(np.abs(np.asarray(residuals, dtype=float)))
    scores = scores[np.isfinite(scores)]
    n = len(scores)
    if not 0 < alpha < 1:
        raise InputError(f"alpha must be in (0, 1), got {alpha}", where="alpha")
    k = math.ceil((n + 1) * (1 - alpha))
    if k > n:
        raise InputError(
            f"{n} calibration points are too few for a {1 - alpha:.0%} conformal interval",
            where="calibration set",
            hint=f"need at least {math.ceil(1 / alpha) - 1} rows",
        )
    return float(scores[k - 1])


def fit_conformal(y_true: np.ndarray, y_pred: np.ndarray, alpha: float = 0.1) -> ConformalRegressor:
    """Calibrate an interval on held-out (calibration) predictions."""
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    return ConformalRegressor(alpha=alpha, q=conformal_quantile(y_true - y_pred, alpha), n_calibration=len(y_true))


def coverage(y_true: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Fraction of true values inside their intervals."""
    y = np.asarray(y_true, float)
    return float(np.mean((y >= lower) & (y <= upper)))


@dataclass(frozen=True)
class PlattCalibrator:
    """``p' = sigmoid(a * logit(p) + b)``, fitted on calibration scores."""

    a: float = 1.0
    b: float = 0.0

    def __call__(self, p: np.ndarray) -> np.ndarray:
        """Calibrated probabilities."""
        z = _logit(np.asarray(p, float))
        return 1.0 / (1.0 + np.exp(-(self.a * z + self.b)))

    def to_dict(self) -> dict[str, Any]:
        """JSON form for a model directory."""
        return asdict(self)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def fit_platt(y_true: np.ndarray, p: np.ndarray) -> PlattCalibrator:
    """Fit Platt scaling; falls back to the identity when the calibration set has one class."""
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(y_true).astype(int)
    if len(np.unique(y)) < 2:
        return PlattCalibrator()
    lr = LogisticRegression(C=1e4, max_iter=1000).fit(_logit(np.asarray(p, float))[:, None], y)
    return PlattCalibrator(a=float(lr.coef_[0, 0]), b=float(lr.intercept_[0]))


def expected_calibration_error(y_true: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """ECE with equal-width bins: the weighted mean gap between confidence and frequency."""
    y, p = np.asarray(y_true, float), np.asarray(p, float)
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = idx == b
        if mask.any():
            ece += mask.mean() * abs(p[mask].mean() - y[mask].mean())
    return float(ece)


def nearest_similarity(query_fps: np.ndarray, train_fps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tanimoto similarity to, and index of, the nearest training fingerprint (packed uint64 rows)."""
    from theralab.chem.fingerprints import tanimoto

    query_fps = np.asarray(query_fps)
    best = np.zeros(len(query_fps))
    where = np.zeros(len(query_fps), dtype=int)
    if len(train_fps) == 0:
        return best, where - 1
    for i, q in enumerate(query_fps):
        sims = tanimoto(q, train_fps)
        where[i] = int(np.argmax(sims))
        best[i] = float(sims[where[i]])
    return best, where


def ensemble_spread(predictions: np.ndarray) -> np.ndarray:
    """Standard deviation across ensemble members (axis 0); zero for a single member."""
    predictions = np.asarray(predictions, float)
    if predictions.shape[0] < 2:
        return np.zeros(predictions.shape[1:])
    return predictions.std(axis=0, ddof=1)
