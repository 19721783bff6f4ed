"""What each ADMET panel endpoint measures and in which unit: the one place pages, reports and
explanations read a unit from.

ADMET-AI's endpoint table (``endpoint_info``) is the source; this module turns its unit strings
into what a reader expects (``Å^2`` → ``Å²``, ``hr`` → ``h``, classification ``-`` → ``probability``)
and corrects one entry: Caco-2 (``Caco2_Wang``) values are log10 of the apparent permeability in
cm/s (TDC's data, e.g. −5.15 = 7.1 × 10⁻⁶ cm/s), not log(10⁻⁶ cm/s) as the table says.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

#: Readable spelling of ADMET-AI's unit strings.
UNIT_SPELLING = {
    "Dalton": "Da", "Å^2": "Å²", "hr": "h", "#": "count", "# of 4": "of 4 rules", "-": "",
    "uL/min/10^6 cells": "µL/min/10⁶ cells", "uL/min/mg": "µL/min/mg", "log-ratio": "log units",
    "log(1/(mol/kg))": "log(1/(mol/kg))", "log(mol/L)": "log(mol/L)", "L/kg": "L/kg", "%": "%",
    "kcal/mol": "kcal/mol",
}
#: Entries whose table unit disagrees with the data the model was trained on.
UNIT_CORRECTIONS = {"Caco2_Wang": "log(cm/s)"}


@lru_cache(maxsize=1)
def endpoint_meta() -> dict[str, dict[str, Any]]:
    """Per endpoint id: ``name``, ``unit`` (readable; ``probability`` for a classifier), ``kind``, ``category``.

    Empty when ADMET-AI's resources are not installed (a page then shows values without units
    rather than failing).
    """
    try:
        frame = _endpoint_table()
    except Exception:  # noqa: BLE001 - units are labels; a missing table must not stop a page
        return {}
    meta: dict[str, dict[str, Any]] = {}
    for rec in frame.to_dict("records"):
        kind = str(rec.get("task_type", ""))
        raw = str(rec.get("units", "") or "")
        unit = "probability" if kind == "classification" else UNIT_SPELLING.get(raw, raw)
        key = str(rec["id"])
        meta[key] = {"name": str(rec.get("name", key)), "unit": UNIT_CORRECTIONS.get(key, unit),
                     "kind": kind, "category": str(rec.get("category", ""))}
    return meta


def _endpoint_table() -> Any:
    """ADMET-AI's ``admet.csv``, found in the installed wheel without importing it.

    Importing ``admet_ai`` loads chemprop and lightning (20+ s); a page that only needs units must
    not wait for that, so the file is located through the import system's spec instead.
    """
    import importlib.util

    import pandas as pd

    spec = importlib.util.find_spec("admet_ai")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("admet-ai is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "data" / "admet.csv"
    return pd.read_csv(path)


def unit_of(endpoint: str) -> str:
    """The readable unit of ``endpoint`` ('' when it has none or is unknown)."""
    return endpoint_meta().get(endpoint, {}).get("unit", "")


def name_of(endpoint: str) -> str:
    """The endpoint's full name (its id when unknown)."""
    return endpoint_meta().get(endpoint, {}).get("name", endpoint)


__all__ = ["UNIT_CORRECTIONS", "UNIT_SPELLING", "endpoint_meta", "name_of", "unit_of"]
