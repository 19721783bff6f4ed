"""Calibration plots (PNG) for clinical classifiers and survival models, with axis titles and units.

A reliability diagram shows what the calibration metrics summarise: predicted risk (x) against the
observed event rate (y) per bin, with the diagonal as perfect calibration and bin sizes as labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def reliability_bins(y: Sequence[float], p: Sequence[float], bins: int = 10) -> list[dict[str, float]]:
    """Predicted vs observed event rate per equal-count bin of predicted risk."""
    y_arr, p_arr = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    order = np.argsort(p_arr)
    return [{"predicted": float(p_arr[c].mean()), "observed": float(y_arr[c].mean()), "n": int(c.size)}
            for c in np.array_split(order, min(bins, max(1, p_arr.size // 10))) if c.size]


def calibration_plot(rows: list[dict[str, float]], path: str | Path, *, title: str,
                     x_label: str = "predicted risk (probability)",
                     y_label: str = "observed event rate (proportion)") -> Path:
    """Write a reliability diagram (PNG) from ``[{predicted, observed, n}, ...]``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=120)
    xs = [r["predicted"] for r in rows]
    ys = [r["observed"] for r in rows]
    top = max([*xs, *ys, 0.05]) * 1.05
    ax.plot([0, top], [0, top], color="grey", linestyle="--", label="perfect calibration")
    ax.plot(xs, ys, marker="o", color="#1f77b4", label="model")
    for r in rows:
        ax.annotate(str(r["n"]), (r["predicted"], r["observed"]), fontsize=6, xytext=(3, -8),
                    textcoords="offset points")
    ax.set(xlim=(0, top), ylim=(0, top), xlabel=x_label, ylabel=y_label, title=title)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out)
    plt.close(fig)
    return out
