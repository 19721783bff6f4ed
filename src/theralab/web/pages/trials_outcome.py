"""Trial outcome page: paste a draft protocol, see its risk, drivers, similar past trials and what-ifs.

Thin over :func:`theralab.trials.outcome.explain_protocol`; the model is chosen among registered
outcome models (never a path). Feasibility reads stored patients, so it needs the clinician or
researcher role and is audited, as in the API.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from theralab.errors import TheralabError
from theralab.privacy.auth import require_role
from theralab.web.pages import WebUser
from theralab.web.templating import mark_built, render

router = APIRouter()
mark_built("trials_outcome")
BASE = "/trials/outcome"

EXAMPLE = {
    "nct_id": "draft-001", "phase": "phase 2", "diseases": ["type 2 diabetes"], "icd_codes": ["E11.9"],
    "drugs": [{"name": "metformin", "smiles": "CN(C)C(=N)N=C(N)N"}], "enrollment": 120, "arms": 2,
    "criteria": "Inclusion Criteria:\n- Age 18 to 65 years\n- HbA1c between 7% and 10%\n"
                "Exclusion Criteria:\n- Pregnancy\n- eGFR < 30 mL/min\n- HbA1c > 12%\n",
}


def _models() -> list[str]:
    from theralab.models.registry import list_models
    from theralab.trials.outcome.predictor import TASK

    return sorted({m["name"] for m in list_models() if m.get("task") == TASK})


def _drivers_figure(res: dict[str, Any]) -> dict[str, Any]:
    """The features that lower and raise the predicted log-odds most (TreeSHAP), as a bar chart."""
    from theralab.web.charts import axis, chart_spec

    rows = list(reversed(res["drivers"]["lowering"])) + res["drivers"]["raising"][::-1][-5:]
    return chart_spec("What drives the prediction", axis("Contribution to the log-odds of success", "log-odds"),
                      axis("Feature", None, "category"),
                      [{"type": "bar", "orientation": "h", "name": "contribution",
                        "x": [r["contribution"] for r in rows], "y": [r["label"] for r in rows],
                        "marker": {"color": ["#b42318" if r["contribution"] < 0 else "#1d5fbf" for r in rows]}}],
                      download="drivers.csv")


def _whatif_figure(res: dict[str, Any]) -> dict[str, Any]:
    """How much each suggested protocol edit changes the probability of success."""
    from theralab.web.charts import axis, chart_spec

    rows = res["whatifs"]
    return chart_spec("What-if edits", axis("Change in probability of success", "percentage points"),
                      axis("Edit", None, "category"),
                      [{"type": "bar", "orientation": "h", "name": "change",
                        "x": [100 * w["change"] for w in rows], "y": [w["description"] for w in rows]}],
                      download="whatifs.csv")


@router.get(BASE, response_class=HTMLResponse)
def outcome_page(request: Request, user: WebUser) -> HTMLResponse:
    models = _models()
    return render(request, "trials_outcome.html", {"models": models, "model": models[0] if models else "",
                                                   "protocol": json.dumps(EXAMPLE, indent=2), "res": None})


@router.post(BASE, response_class=HTMLResponse)
def outcome_submit(request: Request, user: WebUser, model: str = Form(""), protocol: str = Form(...),
                   feasibility: bool = Form(False)) -> HTMLResponse:
    from theralab.runtime.db import session_scope
    from theralab.trials.outcome import explain_protocol, parse_protocol
    from theralab.trials.outcome.predictor import load_registered_model as load_named_model

    ctx: dict[str, Any] = {"models": _models(), "model": model, "protocol": protocol, "res": None}
    try:
        try:
            data = json.loads(protocol)
        except ValueError as exc:
            return render(request, "trials_outcome.html", {**ctx, "problem": f"the protocol is not JSON: {exc}"},
                          status_code=422)
        draft = parse_protocol(data)
        m = load_named_model(model)
        if feasibility:
            require_role(set(user.roles), "clinician", "researcher")
            with session_scope() as s:
                res = explain_protocol(m, draft, session=s)
                user.audit("trials.outcome.feasibility", "Protocol", draft.nct_id, session=s)
        else:
            res = explain_protocol(m, draft)
    except TheralabError as exc:
        return render(request, "trials_outcome.html", {**ctx, "problem": str(exc)}, status_code=422)
    return render(request, "trials_outcome.html", {**ctx, "res": res, "drivers": _drivers_figure(res),
                                                   "whatif": _whatif_figure(res) if res["whatifs"] else None})
