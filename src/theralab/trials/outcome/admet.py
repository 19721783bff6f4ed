"""Optional ADMET block: predicted toxicity and PK of a trial's drugs from the project's ADMET panel.

The panel (ADMET-AI's 41 TDC endpoints) is slow (ten message-passing networks per molecule) and
lives in ``theralab.discovery`` today; this is the one place that reaches it, so a move of the panel
changes one import. Predictions are cached on disk per SMILES (a small JSON file), so a training
set's drugs are scored once. Per trial the block is the mean and the max over its drugs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from theralab.trials.outcome.schemas import TrialRecord

ENDPOINTS = ("AMES", "BBB_Martins", "CYP3A4_Veith", "ClinTox", "DILI", "hERG", "Carcinogens_Lagunin",
             "Bioavailability_Ma", "HIA_Hou", "Solubility_AqSolDB", "Half_Life_Obach", "Clearance_Hepatocyte_AZ",
             "LD50_Zhu", "PPBR_AZ", "VDss_Lombardo")


def admet_columns() -> list[str]:
    """Names of the ADMET-block columns."""
    return [f"admet_{s}_{e}" for s in ("mean", "max") for e in ENDPOINTS]


def _panel_predict(smiles: list[str]) -> list[dict[str, float] | None]:
    """Score SMILES with the project's ADMET panel; None where a molecule could not be scored."""
    from theralab.discovery.admet.panel import AdmetPanel  # the one import of the panel

    panel = AdmetPanel(percentiles=False)
    table = panel.predict_smiles(smiles)
    out: list[dict[str, float] | None] = []
    for _, row in table.iterrows():
        vals = {e: float(row[e]) for e in ENDPOINTS if e in row and row[e] == row[e]}
        out.append(vals if vals else None)
    return out


def admet_features(records: list[TrialRecord], cache: Path | None = None) -> tuple[list[dict[str, float]], int]:
    """The ADMET block per record, scoring only SMILES not in ``cache``; returns (rows, newly scored)."""
    store: dict[str, Any] = {}
    if cache is not None and cache.exists():
        store = json.loads(cache.read_text())
    wanted = sorted({d.smiles for r in records for d in r.drugs if d.smiles} - set(store))
    if wanted:
        for smi, vals in zip(wanted, _panel_predict(wanted), strict=True):
            store[smi] = vals
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps(store))
    rows = []
    for r in records:
        scored = [store[d.smiles] for d in r.drugs if d.smiles and store.get(d.smiles)]
        row = {}
        for e in ENDPOINTS:
            vals = [s[e] for s in scored if e in s]
            row[f"admet_mean_{e}"] = sum(vals) / len(vals) if vals else math.nan
            row[f"admet_max_{e}"] = max(vals) if vals else math.nan
        rows.append(row)
    return rows, len(wanted)
