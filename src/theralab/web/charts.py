"""Chart specifications for ``theralab.js``: pages describe a chart, the script draws it with the house layout.

A page builds a spec with :func:`chart_spec` and renders it with the ``chart(id, spec)`` macro of
``_ui.html``; ``theralab.js`` draws every ``[data-chart]`` with plotly.js (served locally) with a
title, axis titles "Name (unit)", hover, responsive width, shaded bands (reference ranges, NEWS2
thresholds) and a "Download data (CSV)" link when ``download`` names a file. Keeping the layout in
one script means every chart in the product reads the same way and none is drawn without units.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

AXIS_TYPES = ("linear", "date", "log", "category")


def axis(title: str, unit: str | None = None, type: str = "linear") -> dict[str, Any]:
    """One axis: its name, unit (None for counts and categories) and plotly axis type."""
    if type not in AXIS_TYPES:
        raise ValueError(f"axis type {type!r} is not one of {', '.join(AXIS_TYPES)}")
    return {"title": title, "unit": unit, "type": type}


def _axis(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return axis(str(value.get("title", "")), value.get("unit"), str(value.get("type", "linear")))
    if isinstance(value, str):
        return axis(value)
    if isinstance(value, Sequence):
        return axis(*value)
    raise TypeError(f"an axis is a dict, a title or a (title, unit, type) tuple, not {type(value).__name__}")


def jsonable(value: Any) -> Any:
    """Plain JSON values from numpy arrays/scalars, datetimes and non-finite floats (NaN → null)."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if hasattr(value, "tolist"):  # numpy arrays and scalars, pandas series
        return jsonable(value.tolist())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)) or hasattr(value, "__iter__"):
        return [jsonable(v) for v in value]
    return str(value)


def chart_spec(title: str, x: Any, y: Any, traces: Sequence[Mapping[str, Any]],
               shapes: Sequence[Mapping[str, Any]] | None = None,
               bands: Sequence[Mapping[str, Any]] | None = None,
               download: str | None = None) -> dict[str, Any]:
    """A chart spec for the ``chart`` macro.

    Args:
        title: What the chart shows, in words ("Plasma concentration after 500 mg q12h").
        x: The x axis: ``axis("Time", "h")``, a dict with title/unit/type, a (title, unit, type) tuple
            or a bare title.
        y: The y axis, as ``x``.
        traces: plotly traces (``{"x": [...], "y": [...], "name": ..., "mode": ...}``); numpy arrays
            are converted.
        shapes: Extra plotly shapes (vertical markers for alerts, dosing times).
        bands: Shaded horizontal ranges ``{"y0", "y1", "color", "label"}`` drawn under the data.
        download: A file name: the page offers the traces' data as CSV under that name.

    Returns:
        A JSON-ready dict in the contract's shape.
    """
    for band in bands or []:
        missing = {"y0", "y1"} - set(band)
        if missing:
            raise ValueError(f"a band needs y0 and y1 (missing {', '.join(sorted(missing))})")
    return {
        "title": str(title),
        "x": _axis(x),
        "y": _axis(y),
        "traces": jsonable(list(traces)),
        "shapes": jsonable(list(shapes or [])),
        "bands": jsonable(list(bands or [])),
        "download": download or None,
    }


__all__ = ["AXIS_TYPES", "axis", "chart_spec", "jsonable"]
