"""The ADMET page: paste or upload molecules, see the panel (or a trained model) as a sortable table
with traffic-light flags against thresholds the user can edit, a radar of key properties against
approved drugs, per-molecule detail with an atom heatmap, and a CSV download.

Up to 1,000 molecules are scored inline; an upload becomes an ``admet.predict`` job and the browser
is sent to its live progress page.
"""

from __future__ import annotations

import base64
import io
import json
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
# column, label, direction ("high" = high values are bad), amber threshold, red threshold
THRESHOLDS: list[dict[str, Any]] = [
    {"col": "hERG", "label": "hERG block", "bad": "high", "amber": 0.3, "red": 0.5},
    {"col": "AMES", "label": "AMES mutagenic", "bad": "high", "amber": 0.3, "red": 0.5},
    {"col": "DILI", "label": "DILI", "bad": "high", "amber": 0.3, "red": 0.5},
    {"col": "ClinTox", "label": "ClinTox", "bad": "high", "amber": 0.3, "red": 0.5},
    {"col": "CYP3A4_Veith", "label": "CYP3A4 inhib.", "bad": "high", "amber": 0.3, "red": 0.5},
    {"col": "BBB_Martins", "label": "BBB penetrant", "bad": "high", "amber": 0.5, "red": 0.8},
    {"col": "HIA_Hou", "label": "HIA", "bad": "low", "amber": 0.7, "red": 0.5},
    {"col": "Solubility_AqSolDB", "label": "log S", "bad": "low", "amber": -4.0, "red": -6.0},
    {"col": "Caco2_Wang", "label": "Caco-2 log Papp", "bad": "low", "amber": -5.15, "red": -5.5},
    {"col": "logP", "label": "logP", "bad": "high", "amber": 4.0, "red": 5.0},
    {"col": "molecular_weight", "label": "MW", "bad": "high", "amber": 450.0, "red": 500.0},
    {"col": "QED", "label": "QED", "bad": "low", "amber": 0.5, "red": 0.3},
]
RADAR = ["molecular_weight", "logP", "hydrogen_bond_acceptors", "hydrogen_bond_donors", "tpsa", "QED",
         "Solubility_AqSolDB", "Caco2_Wang", "hERG", "ClinTox"]


def _models() -> list[str]:
    from theralab.models.registry import list_models

    return ["panel"] + sorted({m["name"] for m in list_models() if str(m.get("task", "")).startswith("admet.")})


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and math.isfinite(float(v)) else None


@router.get("/admet", response_class=HTMLResponse)
def admet_page(request: Request, user: WebUser) -> HTMLResponse:
    return render(request, "admet.html", {"text": "", "rows": None, "problem": None, "models": _models(),
                                          "model": "panel", "thresholds": THRESHOLDS})


@router.post("/admet", response_class=HTMLResponse)
async def admet_predict(request: Request, user: WebUser, text: str = Form(""), model: str = Form("panel"),
                        upload: UploadFile | None = File(None)) -> Response:
    from theralab.discovery.admet.jobs import score_smiles

    context: dict[str, Any] = {"text": text, "rows": None, "problem": None, "models": _models(), "model": model,
                               "thresholds": THRESHOLDS}
    try:
        if upload is not None and upload.filename:
            return await start_upload_job(user, upload, "admet.predict", {"model": model}, ".admet.csv")
        smiles, ids = pasted_molecules(text)
        table = score_smiles(smiles, model)
    except TheralabError as exc:
        context["problem"] = str(exc)
        return render(request, "admet.html", context, status_code=422 if isinstance(exc, InputError) else 404)
    table.insert(0, "id", ids)
    context.update(_result_context(table, model))
    return render(request, "admet.html", context)


def _result_context(table: Any, model: str) -> dict[str, Any]:
    """Rows, shown columns, radar data, heatmaps and the CSV link for the template."""
    from theralab.chem.depict import mol_to_svg
    from theralab.chem.io import parse_smiles

    panel = model == "panel"
    if panel:
        shown = [t["col"] for t in THRESHOLDS]
    else:
        shown = [c for c in table.columns if c not in ("id", "smiles", "error") and not c.endswith("_raw")]
    explain_target, explainer = _explainer(model)
    rows, radar = [], []
    for i, rec in enumerate(table.to_dict("records")):
        row: dict[str, Any] = {"id": rec["id"], "smiles": rec["smiles"], "error": rec["error"],
                               "values": {c: _num(rec.get(c)) for c in shown}}
        mol, _ = parse_smiles(str(rec["smiles"]))
        row["svg"] = mol_to_svg(mol, width=160, height=120) if mol is not None and not rec["error"] else ""
        if mol is not None and not rec["error"] and i < DETAIL_LIMIT and explainer is not None:
            row["heatmap"] = explainer(mol)  # value, colour scale and the share the colours account for
        if panel and not rec["error"]:
            names = [c for c in table.columns if c not in ("id", "smiles", "error") and not c.endswith("percentile")]
            row["detail"] = [(c, _num(rec.get(c)), _num(rec.get(f"{c}_drugbank_approved_percentile"))) for c in names]
            radar.append({"id": rec["id"], "r": [_num(rec.get(f"{c}_drugbank_approved_percentile")) for c in RADAR]})
        rows.append(row)
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    csv_uri = "data:text/csv;base64," + base64.b64encode(buffer.getvalue().encode()).decode()
    return {"rows": rows, "shown": shown, "csv_uri": csv_uri, "radar": json.dumps({"theta": RADAR, "mols": radar}),
            "explain_target": explain_target, "panel": panel}


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
