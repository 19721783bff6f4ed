"""Figures and tables of the trial pages, as chart specs (``web/charts.py``) and plain rows.

Kept apart from the route handlers in :mod:`theralab.web.pages.trials` so each stays short; every
value leaves here as a number (the templates format it with units), never as a Python repr.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from scipy.stats import norm

RATIO_MEASURES = {"RR", "OR", "HR"}
MEASURE_NAMES = {"RR": "Risk ratio", "OR": "Odds ratio", "HR": "Hazard ratio", "RD": "Risk difference",
                 "MD": "Mean difference", "SMD": "Standardised mean difference"}


def unique_labels(labels: list[str]) -> list[str]:
    """Study labels made unique (a repeated label gets its row number), so none is merged on a chart axis."""
    counts = Counter(labels)
    return [f"{lab} (row {i + 1})" if counts[lab] > 1 else lab for i, lab in enumerate(labels)]


def _natural(x: float, measure: str) -> float:
    return math.exp(x) if measure in RATIO_MEASURES else x


def study_rows(res: Any, level: float = 0.95) -> list[dict[str, Any]]:
    """One row per study: label, estimate and CI on the natural scale, weight (%)."""
    z = norm.isf((1 - level) / 2)
    m = res.measure
    return [{"label": lab, "estimate": _natural(y, m), "lo": _natural(y - z * math.sqrt(v), m),
             "hi": _natural(y + z * math.sqrt(v), m), "weight": w}
            for lab, y, v, w in zip(unique_labels(list(res.labels)), res.yi, res.vi, res.weights_pct, strict=True)]


def pooled(res: Any) -> dict[str, Any]:
    """The pooled estimate on the natural and the log scale, the prediction interval, the test."""
    m = res.measure
    out = {"measure": m, "name": MEASURE_NAMES.get(m, m or "effect"), "ratio": m in RATIO_MEASURES,
           "estimate": _natural(res.beta[0], m), "lo": _natural(res.ci_lb[0], m), "hi": _natural(res.ci_ub[0], m),
           "log_estimate": res.beta[0], "se": res.se[0], "log_lo": res.ci_lb[0], "log_hi": res.ci_ub[0],
           "z": res.zval[0], "p": res.pval[0], "test": res.test, "method": res.method, "k": res.k}
    if res.pi is not None:
        out["pi_lo"], out["pi_hi"] = _natural(res.pi[0], m), _natural(res.pi[1], m)
    return out


def heterogeneity(res: Any) -> list[dict[str, Any]]:
    """Q, df, p, I² (with CI), τ² (with CI), τ and H² as table rows (statistic, value, lo, hi, unit, meaning)."""
    tau2_ci = res.tau2_ci or (None, None)
    i2_ci = res.i2_ci or (None, None)
    return [
        {"name": "Cochran's Q", "value": res.q, "meaning": "weighted squared deviations from the pooled estimate"},
        {"name": "Degrees of freedom", "value": res.q_df, "meaning": "studies − 1"},
        {"name": "p (Q test)", "value": res.q_p, "meaning": "small p: more variation than chance alone"},
        {"name": "I² (%)", "value": res.i2, "lo": i2_ci[0], "hi": i2_ci[1],
         "meaning": "share of the variation due to heterogeneity rather than chance"},
        {"name": "τ²", "value": res.tau2, "lo": tau2_ci[0], "hi": tau2_ci[1], "unit": "",
         "meaning": "between-study variance of the true effects"},
        {"name": "τ", "value": math.sqrt(max(res.tau2, 0.0)), "meaning": "between-study standard deviation"},
        {"name": "H²", "value": res.h2, "meaning": "total variation / sampling variation"},
    ]


def egger_rows(egger: Any) -> list[dict[str, Any]]:
    """Egger's regression test as table rows."""
    stat = "t" if egger.df is not None else "z"
    rows = [{"name": "Model", "value": "mixed-effects meta-regression on SE" if egger.model == "rma"
             else "weighted linear regression on SE"},
            {"name": f"Test statistic ({stat})", "value": egger.z},
            {"name": "p", "value": egger.p, "meaning": "small p: funnel-plot asymmetry (possible small-study effects)"},
            {"name": "Limit estimate (SE → 0, log scale)", "value": egger.limit_estimate}]
    if egger.df is not None:
        rows.insert(2, {"name": "Degrees of freedom", "value": egger.df})
    return rows


def forest_spec(res: Any, level: float = 0.95) -> dict[str, Any]:
    """Forest plot: studies top to bottom with CIs and weight-sized squares, the pooled estimate and PI."""
    from theralab.web.charts import axis, chart_spec

    m = res.measure
    rows = study_rows(res, level)
    p = pooled(res)
    label_pooled = f"Pooled ({res.method})"
    wmax = max(r["weight"] for r in rows) or 1.0
    traces: list[dict[str, Any]] = [{
        "type": "scatter", "mode": "markers", "name": label_pooled, "x": [p["estimate"]], "y": [label_pooled],
        "marker": {"symbol": "diamond", "size": 16, "color": "#b42318"},
        "error_x": {"type": "data", "symmetric": False, "array": [p["hi"] - p["estimate"]],
                    "arrayminus": [p["estimate"] - p["lo"]], "thickness": 2},
        "hovertemplate": f"{label_pooled}: %{{x:.3g}} ({int(level * 100)}% CI "
                         f"{p['lo']:.3g}–{p['hi']:.3g})<extra></extra>",
    }]
    if "pi_lo" in p and res.method != "FE":
        traces.append({"type": "scatter", "mode": "lines", "name": "Prediction interval",
                       "x": [p["pi_lo"], p["pi_hi"]], "y": ["Prediction interval", "Prediction interval"],
                       "line": {"color": "#b42318", "dash": "dot", "width": 2}})
    ordered = list(reversed(rows))  # a category axis stacks from the bottom: the first study ends on top
    traces.append({
        "type": "scatter", "mode": "markers", "name": "Studies (95% CI; size = weight)",
        "x": [r["estimate"] for r in ordered], "y": [r["label"] for r in ordered],
        "marker": {"symbol": "square", "color": "#1d5fbf", "size": [6 + 12 * r["weight"] / wmax for r in ordered]},
        "error_x": {"type": "data", "symmetric": False, "array": [r["hi"] - r["estimate"] for r in ordered],
                    "arrayminus": [r["estimate"] - r["lo"] for r in ordered], "thickness": 1.2},
        "customdata": [r["weight"] for r in ordered],
        "hovertemplate": "%{y}: %{x:.3g}, weight %{customdata:.1f}%<extra></extra>",
    })
    null = 1.0 if m in RATIO_MEASURES else 0.0
    shapes = [{"type": "line", "xref": "x", "x0": null, "x1": null, "yref": "paper", "y0": 0, "y1": 1,
               "line": {"dash": "dash", "color": "#5a6577", "width": 1}}]
    name = MEASURE_NAMES.get(m, m or "Effect")
    return chart_spec(f"Forest plot: {name.lower()} per study and pooled ({res.method})",
                      axis(f"{name} ({int(level * 100)}% CI)", None, "log" if m in RATIO_MEASURES else "linear"),
                      axis("Study", None, "category"), traces, shapes=shapes, download="forest.csv")


def funnel_spec(res: Any, level: float = 0.95) -> dict[str, Any]:
    """Funnel plot on the precision scale (1/SE up: the largest studies on top) with pseudo-CI limits."""
    from theralab.web.charts import axis, chart_spec

    z = norm.isf((1 - level) / 2)
    ses = [math.sqrt(v) for v in res.vi]
    precision = [1 / s for s in ses]
    mu = res.beta[0]
    lo_p, hi_p = min(precision) * 0.9, max(precision) * 1.05
    grid = [lo_p + (hi_p - lo_p) * i / 40 for i in range(41)]
    labels = unique_labels(list(res.labels))
    log = "log " if res.measure in RATIO_MEASURES else ""
    name = MEASURE_NAMES.get(res.measure, res.measure or "effect")
    traces = [
        {"type": "scatter", "mode": "markers", "name": "Studies", "x": list(res.yi), "y": precision, "text": labels,
         "marker": {"color": "#1d5fbf", "size": 9},
         "hovertemplate": "%{text}: %{x:.3g}, SE %{customdata:.3g}<extra></extra>", "customdata": ses},
        {"type": "scatter", "mode": "lines", "name": f"{int(level * 100)}% pseudo-confidence limits",
         "x": [mu - z / p for p in grid], "y": grid, "line": {"dash": "dot", "color": "#5a6577"}},
        {"type": "scatter", "mode": "lines", "name": f"{int(level * 100)}% limits (upper)", "showlegend": False,
         "x": [mu + z / p for p in grid], "y": grid, "line": {"dash": "dot", "color": "#5a6577"}},
        {"type": "scatter", "mode": "lines", "name": "Pooled estimate", "x": [mu, mu], "y": [0, hi_p],
         "line": {"color": "#b42318"}},
    ]
    return chart_spec(f"Funnel plot: {log}{name.lower()} against precision", axis(f"{log}{name}".capitalize()),
                      axis("Precision (1 / standard error)"), traces, download="funnel.csv")


def signal_rows(table: Any) -> list[dict[str, Any]]:
    """Drug-event pairs of a disproportionality screen as plain rows (numbers only, NaN → None)."""
    def num(v: Any) -> float | None:
        try:
            f = float(v)
        except (TypeError, ValueError):
            return None
        return f if math.isfinite(f) else None

    rows = []
    for r in table.to_dict("records"):
        rows.append({"drug": str(r.get("drug", "")), "event": str(r.get("event", "")), "a": int(r.get("a", 0) or 0),
                     **{k: num(r.get(k)) for k in ("PRR", "PRR_lo", "PRR_hi", "ROR", "ROR_lo", "ROR_hi", "chi2_yates",
                                                   "IC", "IC025", "EB05", "EBGM")},
                     "signal": bool(r.get("evans_signal", False))})
    return rows


def disproportionality_spec(rows: list[dict[str, Any]], limit: int = 20) -> dict[str, Any] | None:
    """ROR with 95% CI for the strongest pairs (log axis, null line at 1), signals in red."""
    from theralab.web.charts import axis, chart_spec

    usable = [r for r in rows if r.get("ROR") and r.get("ROR_lo") and r.get("ROR_hi")]
    if not usable:
        return None
    top = sorted(usable, key=lambda r: (r["signal"], r["ROR_lo"]), reverse=True)[:limit]
    top = list(reversed(top))  # strongest on top of the category axis
    traces = []
    kinds = ((True, "Signal (Evans: PRR ≥ 2, χ² ≥ 4, n ≥ 3)", "#b42318"), (False, "No signal", "#1d5fbf"))
    for flag, name, colour in kinds:
        part = [r for r in top if r["signal"] is flag]
        if not part:
            continue
        traces.append({"type": "scatter", "mode": "markers", "name": name,
                       "x": [r["ROR"] for r in part], "y": [f"{r['drug']} – {r['event']}" for r in part],
                       "marker": {"color": colour, "size": 9},
                       "error_x": {"type": "data", "symmetric": False, "array": [r["ROR_hi"] - r["ROR"] for r in part],
                                   "arrayminus": [r["ROR"] - r["ROR_lo"] for r in part]},
                       "customdata": [r["a"] for r in part],
                       "hovertemplate": "%{y}: ROR %{x:.3g}, %{customdata} reports<extra></extra>"})
    shapes = [{"type": "line", "xref": "x", "x0": 1, "x1": 1, "yref": "paper", "y0": 0, "y1": 1,
               "line": {"dash": "dash", "color": "#5a6577", "width": 1}}]
    return chart_spec(f"Reporting odds ratio with 95% CI, {len(top)} strongest drug–event pairs",
                      axis("Reporting odds ratio (95% CI)", None, "log"), axis("Drug – event", None, "category"),
                      traces, shapes=shapes, download="disproportionality.csv")
