"""Forest and funnel plots as plotly figure dicts (JSON-able; rendered by plotly.js in the web UI).

No plotting library is needed to build them: the dicts follow the plotly figure schema
(``{"data": [...], "layout": {...}}``) and can be passed to ``plotly.io.from_json`` or
``plotly.graph_objects.Figure`` for HTML export.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from scipy.stats import norm

if TYPE_CHECKING:
    from theralab.trials.meta.model import MetaResult

_EXP_MEASURES = {"RR", "OR", "HR"}


def _tr(x: float, measure: str) -> float:
    return math.exp(x) if measure in _EXP_MEASURES else x


def forest_plot(res: MetaResult, *, title: str | None = None, level: float = 0.95) -> dict:
    """Forest plot: one row per study (estimate, CI, marker size by weight) and the pooled diamond.

    Ratio measures (RR, OR, HR) are drawn on a log axis in their natural units.
    """
    m = res.measure
    z = norm.isf((1 - level) / 2)
    k = res.k
    ys = list(range(k + 1, 1, -1))
    est = [_tr(y, m) for y in res.yi]
    lo = [_tr(y - z * math.sqrt(v), m) for y, v in zip(res.yi, res.vi, strict=True)]
    hi = [_tr(y + z * math.sqrt(v), m) for y, v in zip(res.yi, res.vi, strict=True)]
    wmax = max(res.weights_pct)
    studies = {
        "type": "scatter",
        "mode": "markers",
        "name": "studies",
        "x": est,
        "y": ys,
        "marker": {
            "symbol": "square",
            "size": [6 + 14 * w / wmax for w in res.weights_pct],
            "color": "#1f4e79",
        },
        "error_x": {
            "type": "data",
            "symmetric": False,
            "array": [h - e for h, e in zip(hi, est, strict=True)],
            "arrayminus": [e - lo_ for e, lo_ in zip(est, lo, strict=True)],
            "thickness": 1.2,
        },
        "text": [
            f"{lab}: {e:.3f} [{a:.3f}, {b:.3f}], weight {w:.1f}%"
            for lab, e, a, b, w in zip(res.labels, est, lo, hi, res.weights_pct, strict=True)
        ],
        "hoverinfo": "text",
    }
    c, a, b = _tr(res.beta[0], m), _tr(res.ci_lb[0], m), _tr(res.ci_ub[0], m)
    diamond = {
        "type": "scatter",
        "mode": "lines",
        "fill": "toself",
        "name": f"pooled ({res.method})",
        "x": [a, c, b, c, a],
        "y": [0.5, 0.8, 0.5, 0.2, 0.5],
        "line": {"color": "#b22222"},
        "text": f"pooled {c:.3f} [{a:.3f}, {b:.3f}]",
        "hoverinfo": "text",
    }
    data = [studies, diamond]
    if res.pi is not None and res.method != "FE":
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "prediction interval",
                "x": [_tr(res.pi[0], m), _tr(res.pi[1], m)],
                "y": [0.5, 0.5],
                "line": {"color": "#b22222", "dash": "dot"},
            }
        )
    null = 1.0 if m in _EXP_MEASURES else 0.0
    het = f"tau2={res.tau2:.4f}, I2={res.i2:.1f}%, Q={res.q:.2f} (df={res.q_df}, p={res.q_p:.3g})"
    layout = {
        "title": {"text": title or f"Forest plot ({m or 'effect'}, {res.method})"},
        "xaxis": {"type": "log" if m in _EXP_MEASURES else "linear", "title": {"text": m or "effect"}},
        "yaxis": {"tickvals": ys + [0.5], "ticktext": res.labels + ["Pooled"], "zeroline": False},
        "shapes": [{"type": "line", "x0": null, "x1": null, "y0": 0, "y1": k + 1.5, "line": {"dash": "dash"}}],
        "annotations": [{"text": het, "xref": "paper", "yref": "paper", "x": 0, "y": -0.12, "showarrow": False}],
        "showlegend": True,
        "height": 120 + 28 * k,
    }
    return {"data": data, "layout": layout}


def funnel_plot(res: MetaResult, *, level: float = 0.95) -> dict:
    """Funnel plot: effect vs standard error (inverted y axis) with pseudo-confidence limits."""
    z = norm.isf((1 - level) / 2)
    ses = [math.sqrt(v) for v in res.vi]
    top = max(ses) * 1.05
    mu = res.beta[0]
    data = [
        {
            "type": "scatter",
            "mode": "markers",
            "name": "studies",
            "x": res.yi,
            "y": ses,
            "text": res.labels,
            "marker": {"color": "#1f4e79"},
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": f"{int(level * 100)}% pseudo-CI",
            "x": [mu - z * top, mu, mu + z * top],
            "y": [top, 0, top],
            "line": {"dash": "dot", "color": "grey"},
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "pooled",
            "x": [mu, mu],
            "y": [0, top],
            "line": {"color": "#b22222"},
        },
    ]
    layout = {
        "title": {"text": f"Funnel plot ({res.measure or 'effect'}, {res.method})"},
        "xaxis": {"title": {"text": f"{'log ' if res.measure in _EXP_MEASURES else ''}{res.measure or 'effect'}"}},
        "yaxis": {"title": {"text": "standard error"}, "autorange": "reversed"},
    }
    return {"data": data, "layout": layout}
