"""Probability calibration and the metrics the outcome figures use, small enough to check by hand.

Platt scaling fits ``p = sigmoid(a * logit(s) + b)`` to out-of-fold scores ``s`` by maximum
likelihood; isotonic regression fits a monotone step function (stored as its knots and applied by
linear interpolation). Both are fitted on predictions the model made for trials it did not see
(cross-validation folds), never on its own training fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

EPS = 1e-6


def logit(p: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)) with p clipped to [1e-6, 1 - 1e-6]."""
    p = np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS)
    return np.log(p / (1 - p))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x))."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


@dataclass
class Calibrator:
    """A fitted calibration map: ``platt`` (a, b) or ``isotonic`` (knots x, y)."""

    method: str = "platt"
    a: float = 1.0
    b: float = 0.0
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of raw probabilities ``scores``."""
        s = np.asarray(scores, dtype=float)
        if self.method == "isotonic":
            return np.clip(np.interp(s, self.x, self.y), 0.0, 1.0)
        return sigmoid(self.a * logit(s) + self.b)

    def to_dict(self) -> dict[str, object]:
        return {"method": self.method, "a": self.a, "b": self.b, "x": self.x, "y": self.y}


def fit_calibrator(scores: np.ndarray, labels: np.ndarray, method: str = "platt") -> Calibrator:
    """Fit Platt or isotonic calibration on out-of-fold ``scores`` (raw probabilities) and 0/1 ``labels``."""
    s, y = np.asarray(scores, dtype=float), np.asarray(labels, dtype=float)
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(s, y)
        return Calibrator("isotonic", x=[float(v) for v in iso.X_thresholds_], y=[float(v) for v in iso.y_thresholds_])
    if method != "platt":
        from theralab.errors import InputError

        raise InputError(f"unknown calibration {method!r}", where="calibration", hint="platt or isotonic")
    from sklearn.linear_model import LogisticRegression

    # C=100: maximum likelihood in practice, yet finite when the folds separate the classes perfectly
    lr = LogisticRegression(C=100.0, max_iter=1000).fit(logit(s)[:, None], y)
    return Calibrator("platt", a=float(lr.coef_[0, 0]), b=float(lr.intercept_[0]))


def f1_at(probs: np.ndarray, labels: np.ndarray, threshold: float = 0.5) -> float:
    """F1 of the positive class (success) with ``prob >= threshold`` predicted positive."""
    pred = np.asarray(probs) >= threshold
    y = np.asarray(labels).astype(bool)
    tp = float(np.sum(pred & y))
    fp = float(np.sum(pred & ~y))
    fn = float(np.sum(~pred & y))
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def best_threshold(probs: np.ndarray, labels: np.ndarray) -> float:
    """The threshold (among the predicted values) that maximises F1."""
    p = np.asarray(probs, dtype=float)
    cands = np.unique(p) if p.size <= 2000 else np.unique(np.quantile(p, np.linspace(0, 1, 2001)))
    scores = [f1_at(probs, labels, t) for t in cands]
    return float(cands[int(np.argmax(scores))]) if len(cands) else 0.5


def metrics(probs: np.ndarray, labels: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """ROC-AUC, PR-AUC (average precision), F1 at ``threshold``, Brier score, number of trials."""
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    y = np.asarray(labels).astype(int)
    p = np.asarray(probs, dtype=float)
    both = len(set(y.tolist())) == 2
    return {"roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
            "pr_auc": float(average_precision_score(y, p)) if both else float("nan"),
            "f1": f1_at(p, y, threshold), "brier": float(brier_score_loss(y, p)), "n": int(len(y))}
