"""The ADMET page: paste or upload molecules, see the panel (or a trained model) as a sortable table
with traffic-light flags against thresholds the user can edit, a chart of key properties against
approved drugs (DrugBank percentiles), per-molecule detail with an atom heatmap, and a CSV download.

Up to 1,000 molecules are scored inline; an upload becomes an ``admet.predict`` job and the browser
is sent to its live progress page.
"""

from __future__ import annotations

import base64
import io
import math
from typing import Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from theralab.errors import InputError, TheralabError
from theralab.web.pages import WebUser, pasted_molecules, start_upload_job
from theralab.web.templating import mark_built, render

router = APIRouter()
mark_built("admet")

DETAIL_LIMIT = 20  # heatmaps are drawn for the first molecules only (one backward pass each)
#: The traffic lights: column, short label, which direction is bad, amber and red thresholds, and why.
#: Values at or beyond ``red`` are red, at or beyond ``amber`` amber, otherwise green. Units come from
#: the endpoint table (:func:`theralab.discovery.admet.unit_of`), never from here.
THRESHOLDS: list[dict[str, Any]] = [
    {"col": "hERG", "label": "hERG block", "bad": "high", "amber": 0.3, "red": 0.5,
     "why": "predicted probability of hERG channel block (IC50 < 10 µM), a QT-prolongation risk"},
    {"col": "AMES", "label": "AMES mutagenic", "bad": "high", "amber": 0.3, "red": 0.5,
     "why": "predicted probability of a positive Ames (bacterial mutagenicity) test"},
    {"col": "DILI", "label": "DILI", "bad": "high", "amber": 0.3, "red": 0.5,
     "why": "predicted probability of drug-induced liver injury"},
    {"col": "ClinTox", "label": "ClinTox", "bad": "high", "amber": 0.3, "red": 0.5,
     "why": "predicted probability of failing clinical trials for toxicity"},
    {"col": "CYP3A4_Veith", "label": "CYP3A4 inhib.", "bad": "high", "amber": 0.3, "red": 0.5,
     "why": "predicted probability of inhibiting CYP3A4 (drug-drug interaction risk)"},
    {"col": "BBB_Martins", "label": "BBB penetrant", "bad": "high", "amber": 0.5, "red": 0.8,
     "why": "predicted probability of crossing the blood-brain barrier (bad for a peripheral target)"},
    {"col": "HIA_Hou", "label": "HIA", "bad": "low", "amber": 0.7, "red": 0.5,
     "why": "predicted probability of good human intestinal absorption (> 30%)"},
    {"col": "Solubility_AqSolDB", "label": "log S", "bad": "low", "amber": -4.0, "red": -6.0,
     "why": "aqueous solubility; below -4 log(mol/L) (about 0.1 mM) is poorly soluble, below -6 hard to formulate"},
    {"col": "Caco2_Wang", "label": "Caco-2 log Papp", "bad": "low", "amber": -5.15, "red": -5.5,
     "why": "Caco-2 permeability; above -5.15 log(cm/s) (7 × 10⁻⁶ cm/s) is high permeability"},
    {"col": "logP", "label": "logP", "bad": "high", "amber": 4.0, "red": 5.0,
     "why": "lipophilicity; Lipinski's limit is 5, above 4 raises promiscuity and toxicity risk"},
    {"col": "molecular_weight", "label": "MW", "bad": "high", "amber": 450.0, "red": 500.0,
     "why": "molecular weight; Lipinski's limit is 500 Da"},
    {"col": "QED", "label": "QED", "bad": "low", "amber": 0.5, "red": 0.3,
     "why": "quantitative estimate of drug-likeness (0-1); approved oral drugs are mostly above 0.5"},
]
#: Filled in on a first visit (one molecule: the panel and its heatmap take seconds per molecule).
EXAMPLE = "CC(=O)Nc1ccc(O)cc1 paracetamol"
RADAR = ["molecular_weight", "logP", "hydrogen_bond_acceptors", "hydrogen_bond_donors", "tpsa", "QED",
         "Solubility_AqSolDB", "Caco2_Wang", "hERG", "ClinTox"]
SHORT = {"molecular_weight": "MW", "hydrogen_bond_acceptors": "HBA", "hydrogen_bond_donors": "HBD", "tpsa": "TPSA",
         "Solubility_AqSolDB": "log S", "Caco2_Wang": "Caco-2"}
PERCENTILE_TRACES = 10  # molecules drawn on the percentile chart (the legend toggles them)


def _models() -> list[str]:
    from theralab.models.registry import list_models

    return ["panel"] + sorted({m["name"] for m in list_models() if str(m.get("task", "")).startswith("admet.")})


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and math.isfinite(float(v)) else None


@router.get("/admet", response_class=HTMLResponse)
def admet_page(request: Request, user: WebUser) -> HTMLResponse:
    return render(request, "admet.html", {"text": EXAMPLE, "rows": None, "problem": None, "models": _models(),
                                          "model": "panel", "thresholds": thresholds()})


@router.post("/admet", response_class=HTMLResponse)
async def admet_predict(request: Request, user: WebUser, text: str = Form(""), model: str = Form("panel"),
                        upload: UploadFile | None = File(None)) -> Response:
    from theralab.chem.io import records_from_smiles
    from theralab.discovery.admet.jobs import score_records

    context: dict[str, Any] = {"text": text, "rows": None, "problem": None, "models": _models(), "model": model,
                               "thresholds": thresholds()}
    try:
        if upload is not None and upload.filename:
            return await start_upload_job(user, upload, "admet.predict", {"model": model}, ".admet.csv")
        smiles, ids = pasted_molecules(text)
        # through the reader: each row keeps its reason and RDKit's warnings, nothing reaches the console
        records = records_from_smiles(smiles, ids)
        table = score_records(records, model)
    except TheralabError as exc:
        context["problem"] = str(exc)
        return render(request, "admet.html", context, status_code=422 if isinstance(exc, InputError) else 404)
    context.update(_result_context(table, model, [r.mol for r in records]))
    return render(request, "admet.html", context)


def thresholds() -> list[dict[str, Any]]:
    """The traffic-light thresholds with each endpoint's unit and full name (for the legend)."""
    from theralab.discovery.admet import name_of, unit_of

    return [{**t, "unit": unit_of(t["col"]), "name": name_of(t["col"])} for t in THRESHOLDS]


def columns(shown: list[str]) -> list[dict[str, Any]]:
    """Header of each shown column: short label, unit, full name and the threshold explanation."""
    from theralab.discovery.admet import name_of, unit_of

    by_col = {t["col"]: t for t in THRESHOLDS}
    out = []
    for c in shown:
        t = by_col.get(c)
        unit = unit_of(c)
        out.append({"col": c, "label": t["label"] if t else c, "unit": "" if unit == "probability" else unit,
                    "name": name_of(c), "why": t["why"] if t else "", "probability": unit == "probability"})
    return out


NOT_SCORES = ("row", "id", "smiles", "error", "warnings")  # the reader's columns, not a model's


def _result_context(table: Any, model: str, mols: list[Any]) -> dict[str, Any]:
    """Rows, shown columns (with units), the percentile chart, heatmaps and the CSV link for the template.

    ``mols`` are the reader's molecules, one per row of ``table`` (None where the row is bad).
    """
    from theralab.chem.depict import mol_to_svg
    from theralab.discovery.admet import name_of, unit_of
    from theralab.web.charts import axis, chart_spec

    panel = model == "panel"
    if panel:
        shown = [t["col"] for t in THRESHOLDS]
    else:
        shown = [c for c in table.columns if c not in NOT_SCORES and not c.endswith("_raw")]
    explain_target, explainer = _explainer(model)
    rows, traces = [], []
    for i, rec in enumerate(table.to_dict("records")):
        row: dict[str, Any] = {"id": rec["id"], "smiles": rec["smiles"], "error": rec["error"],
                               "warnings": rec.get("warnings") or "",
                               "values": {c: _num(rec.get(c)) for c in shown}}
        mol = mols[i]  # the reader's molecule: drawn and explained without parsing the SMILES again
        row["svg"] = mol_to_svg(mol, width=160, height=120) if mol is not None and not rec["error"] else ""
        if mol is not None and not rec["error"] and i < DETAIL_LIMIT and explainer is not None:
            row["heatmap"] = explainer(mol)  # value, colour scale and the share the colours account for
        if panel and not rec["error"]:
            names = [c for c in table.columns if c not in NOT_SCORES and not c.endswith("percentile")]
            row["detail"] = [{"col": c, "name": name_of(c), "unit": unit_of(c), "value": _num(rec.get(c)),
                              "percentile": _num(rec.get(f"{c}_drugbank_approved_percentile"))} for c in names]
            if len(traces) < PERCENTILE_TRACES:
                traces.append({"type": "bar", "name": str(rec["id"]), "x": [SHORT.get(c, c) for c in RADAR],
                               "y": [_num(rec.get(f"{c}_drugbank_approved_percentile")) for c in RADAR]})
        rows.append(row)
    percentiles = chart_spec(
        "Where each molecule sits among approved drugs", axis("Property", None, "category"),
        axis("DrugBank-approved percentile", "%"), traces,
        bands=[{"y0": 25, "y1": 75, "color": "rgba(46,139,87,0.12)", "label": "middle half of approved drugs"}],
        download="admet_percentiles.csv") if traces else None
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    csv_uri = "data:text/csv;base64," + base64.b64encode(buffer.getvalue().encode()).decode()
    return {"rows": rows, "shown": shown, "columns": columns(shown), "csv_uri": csv_uri, "percentiles": percentiles,
            "explain_target": explain_target, "explain_unit": unit_of(explain_target), "panel": panel}


def _explainer(model: str) -> tuple[str, Any]:
    """What the heatmaps explain (an SVG per molecule): hERG for the panel, a trained model's first target."""
    if model == "panel":
        from theralab.discovery.admet.panel import get_panel
        from theralab.discovery.admet.panel_explain import explain_endpoint

        panel = get_panel()
        return "hERG", lambda mol: explain_endpoint(panel, mol, "hERG", steps=16)["svg"]
    from theralab.discovery.admet.explain import explain
    from theralab.discovery.admet.train import resolve_model
    from theralab.discovery.admet.user_models import AdmetModel

    loaded = AdmetModel.load(resolve_model(model))
    return loaded.targets[0], lambda mol: explain(loaded, mol)["svg"]
