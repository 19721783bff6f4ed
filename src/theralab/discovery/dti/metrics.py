"""Affinity-regression metrics used by the DTA literature: CI, MSE, Pearson r and rm2.

Concordance index (Gonen and Heller 2005, as DeepDTA computes it): over every pair of test
items with different true affinities ``y_i > y_j``, the fraction the model orders the same way,
ties in the prediction counting one half::

    CI = (1/Z) * sum_{y_i > y_j} h(p_i - p_j),   h(x) = 1 if x > 0, 0.5 if x = 0, else 0

rm2 (Roy et al. 2013; DeepDTA's ``get_rm2``): ``r2 * (1 - sqrt(|r2 - r0^2|))``, where ``r0^2``
is the squared correlation of a line through the origin.
"""

from __future__ import annotations

import numpy as np

from theralab.errors import InputError


def _pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_pred, dtype=np.float64).ravel()
    if y.shape != p.shape:
        raise InputError(f"{len(y)} true values but {len(p)} predictions", where="metrics")
    if not (np.isfinite(y).all() and np.isfinite(p).all()):
        raise InputError("metrics need finite values; drop rows without a prediction first", where="metrics")
    return y, p


def concordance_index(y_true: np.ndarray, y_pred: np.ndarray, block: int = 2048) -> float:
    """CI as defined above, exact, computed in blocks of rows so 20,000 items fit in memory.

    Raises:
        InputError: lengths differ, non-finite values, or every true value is equal (no pairs).
    """
    y, p = _pair(y_true, y_pred)
    num = 0.0
    den = 0
    for start in range(0, len(y), block):
        yi, pi = y[start : start + block, None], p[start : start + block, None]
        greater = yi > y[None, :]
        diff = pi - p[None, :]
        num += float(np.sum(greater & (diff > 0))) + 0.5 * float(np.sum(greater & (diff == 0)))
        den += int(greater.sum())
    if den == 0:
        raise InputError("the concordance index needs at least two different true values", where="metrics")
    return num / den


def mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean squared error."""
    y, p = _pair(y_true, y_pred)
    return float(np.mean((y - p) ** 2))


def pearson(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Pearson correlation (NaN-free: raises when either side is constant)."""
    y, p = _pair(y_true, y_pred)
    if y.std() == 0 or p.std() == 0:
        raise InputError("Pearson r is undefined when the truth or the prediction is constant", where="metrics")
    return float(np.corrcoef(y, p)[0, 1])


def rm2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Modified r2 (DeepDTA's ``get_rm2``): penalises predictions off the y = kx line."""
    y, p = _pair(y_true, y_pred)
    r2 = pearson(y, p) ** 2
    k = float(np.sum(y * p) / np.sum(p * p))
    r02 = 1.0 - float(np.sum((y - k * p) ** 2)) / float(np.sum((y - y.mean()) ** 2))
    return float(r2 * (1.0 - np.sqrt(abs(r2 - r02))))


def regression_report(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """CI, MSE, Pearson and rm2 in one dict (rounded to 4 decimals for cards and tables)."""
    return {"ci": round(concordance_index(y_true, y_pred), 4), "mse": round(mse(y_true, y_pred), 4),
            "pearson": round(pearson(y_true, y_pred), 4), "rm2": round(rm2(y_true, y_pred), 4),
            "n": int(len(np.ravel(y_true)))}
