"""Trial pages: a design calculator with boundary plots, a meta-analysis page with forest and
funnel plots, and a safety dashboard with the trial alert inbox."""

from __future__ import annotations

import io
import json

import pandas as pd
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse

from theralab.errors import InputError
from theralab.privacy.auth import require_role
from theralab.runtime import alerts as alert_store
from theralab.runtime.db import session_scope
from theralab.web.pages import WebUser
from theralab.web.templating import mark_built, render

router = APIRouter()
mark_built("trials")

BCG_EXAMPLE = """author,tpos,tneg,cpos,cneg
Aronson,4,119,11,128
Ferguson & Simes,6,300,29,274
Rosenthal et al,3,228,11,209
Hart & Sutherland,62,13536,248,12619
Frimodt-Moller et al,33,5036,47,5761
Stein & Aronson,180,1361,372,1079
Vandiviere et al,8,2537,10,619
TPT Madras,505,87886,499,87892
Coetzee & Berjak,29,7470,45,7232
Rosenthal et al,17,1699,65,1600
Comstock et al,186,50448,141,27197
Comstock & Webster,5,2493,3,2338
Comstock et al,27,16886,29,17825
"""


def _boundary_figure(design: object) -> dict:
    t = list(design.information_rates)  # type: ignore[attr-defined]
    traces = [{"x": t, "y": list(design.efficacy_z), "name": "efficacy (reject H0 above)",  # type: ignore[attr-defined]
               "mode": "lines+markers"}]
    if design.sided == 2:  # type: ignore[attr-defined]
        traces.append({"x": t, "y": [-z for z in design.efficacy_z], "name": "efficacy (lower)",  # type: ignore
                       "mode": "lines+markers"})
    if design.futility_z is not None:  # type: ignore[attr-defined]
        traces.append({"x": t, "y": list(design.futility_z), "name": "futility (non-binding)",  # type: ignore
                       "mode": "lines+markers", "line": {"dash": "dash"}})
    return {"data": traces, "layout": {"xaxis": {"title": "information fraction"},
                                       "yaxis": {"title": "z boundary"}, "margin": {"t": 20}}}


@router.get("/trials", response_class=HTMLResponse)
def design_page(request: Request, user: WebUser) -> HTMLResponse:
    return render(request, "trials_design.html", {"form": {"k": 3, "kind": "of", "alpha": 0.05, "sided": 2,
                                                           "beta": 0.2, "rates": ""}, "design": None})


@router.post("/trials", response_class=HTMLResponse)
def design_submit(request: Request, user: WebUser, k: int = Form(3), kind: str = Form("of"),
                  alpha: float = Form(0.05), sided: int = Form(2), beta: float = Form(0.2),
                  rates: str = Form("")) -> HTMLResponse:
    from theralab.trials.design.gsd import group_sequential

    form = {"k": k, "kind": kind, "alpha": alpha, "sided": sided, "beta": beta, "rates": rates}
    try:
        information = [float(x) for x in rates.replace(";", ",").split(",") if x.strip()] or None
        design = group_sequential(k, alpha=alpha, beta=beta, sided=sided, kind=kind, information_rates=information)
    except (InputError, ValueError) as exc:
        return render(request, "trials_design.html", {"form": form, "design": None, "problem": str(exc)},
                      status_code=422)
    return render(request, "trials_design.html", {"form": form, "design": design, "rows": design.table(),
                                                  "figure": json.dumps(_boundary_figure(design))})


@router.get("/trials/meta", response_class=HTMLResponse)
def meta_page(request: Request, user: WebUser) -> HTMLResponse:
    return render(request, "trials_meta.html", {"text": BCG_EXAMPLE, "measure": "RR", "method": "REML", "res": None})


@router.post("/trials/meta", response_class=HTMLResponse)
async def meta_submit(request: Request, user: WebUser, text: str = Form(""), measure: str = Form("RR"),
                      method: str = Form("REML"), test: str = Form("z"),
                      upload: UploadFile | None = File(None)) -> HTMLResponse:
    from theralab.trials import meta as m
    from theralab.trials.meta import analyse_table

    context = {"text": text, "measure": measure, "method": method, "res": None}
    try:
        raw = (await upload.read()).decode("utf-8-sig") if upload is not None and upload.filename else text
        df = pd.read_csv(io.StringIO(raw))
        label = None if str(df.columns[0]).lower() in ("tpos", "ai", "yi", "m1", "loghr") else str(df.columns[0])
        outcome = analyse_table(df, measure, method, test=test, label=label)
        if outcome.effects is None:
            raise InputError("Mantel-Haenszel and Peto give one pooled estimate: use the CLI or API for them",
                             where="method", hint="choose FE, DL, REML, ... for a forest plot")
        es, res = outcome.effects, outcome.result
        egger = m.egger_test(es.yi, es.vi) if res.k >= 3 else None
    except (InputError, ValueError, KeyError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        return render(request, "trials_meta.html", {**context, "problem": str(exc)}, status_code=422)
    context.update(res=res, egger=egger, forest=json.dumps(m.forest_plot(res)),
                   funnel=json.dumps(m.funnel_plot(res)), correction=es.correction if es.corrected else "")
    return render(request, "trials_meta.html", context)


@router.get("/trials/safety", response_class=HTMLResponse)
def safety_page(request: Request, user: WebUser, trial: str = "") -> HTMLResponse:
    require_role(set(user.roles), "clinician", "researcher")
    with session_scope() as session:
        inbox = [a.to_dict() for a in alert_store.list_alerts(session, domain="trials", subject=trial or None)]
    return render(request, "trials_safety.html", {"alerts": inbox, "trial": trial, "table": None})


@router.post("/trials/safety", response_class=HTMLResponse)
async def safety_submit(request: Request, user: WebUser, trial: str = Form(...),
                        upload: UploadFile = File(...)) -> HTMLResponse:
    from theralab.trials.safety.monitor import screen_reports

    require_role(set(user.roles), "clinician", "researcher")
    try:
        reports = pd.read_csv(io.BytesIO(await upload.read()))
        with session_scope() as session:
            table = screen_reports(session, reports, trial)
    except (InputError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        return render(request, "trials_safety.html", {"alerts": [], "trial": trial, "table": None,
                                                      "problem": str(exc)}, status_code=422)
    user.audit("trials.safety.screen", "Trial", trial)
    with session_scope() as session:
        inbox = [a.to_dict() for a in alert_store.list_alerts(session, domain="trials", subject=trial)]
    return render(request, "trials_safety.html", {"alerts": inbox, "trial": trial,
                                                  "table": table.head(200).to_dict("records")})
