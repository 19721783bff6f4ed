"""Trial pages: a design calculator with boundary plots, a meta-analysis page with forest and
funnel plots, and a safety dashboard with the trial alert inbox."""

from __future__ import annotations

import io
from typing import Any

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
UPLOAD_LIMIT = 50 * 1024 * 1024
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
    """Efficacy (and futility) boundaries on the z scale against the information fraction."""
    from theralab.web.charts import axis, chart_spec

    t = list(design.information_rates)  # type: ignore[attr-defined]
    traces = [{"x": t, "y": list(design.efficacy_z), "name": "efficacy: reject H0 above",  # type: ignore[attr-defined]
               "mode": "lines+markers"}]
    if design.sided == 2:  # type: ignore[attr-defined]
        traces.append({"x": t, "y": [-z for z in design.efficacy_z], "name": "efficacy: reject H0 below",  # type: ignore
                       "mode": "lines+markers"})
    if design.futility_z is not None:  # type: ignore[attr-defined]
        traces.append({"x": t, "y": list(design.futility_z), "name": "futility (non-binding)",  # type: ignore
                       "mode": "lines+markers", "line": {"dash": "dash"}})
    return chart_spec("Stopping boundaries at each look", axis("Information fraction"), axis("Boundary", "z"),
                      traces, download="boundaries.csv")


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
                                                  "figure": _boundary_figure(design)})


@router.get("/trials/meta", response_class=HTMLResponse)
def meta_page(request: Request, user: WebUser) -> HTMLResponse:
    return render(request, "trials_meta.html", {"text": BCG_EXAMPLE, "measure": "RR", "method": "REML", "test": "z",
                                                "res": None})


@router.post("/trials/meta", response_class=HTMLResponse)
async def meta_submit(request: Request, user: WebUser, text: str = Form(""), measure: str = Form("RR"),
                      method: str = Form("REML"), test: str = Form("z"),
                      upload: UploadFile | None = File(None)) -> HTMLResponse:
    from theralab.trials import meta as m
    from theralab.trials.meta import analyse_table
    from theralab.web.pages import trials_figures as figures

    context = {"text": text, "measure": measure, "method": method, "test": test, "res": None}
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
    context.update(res=res, pooled=figures.pooled(res), studies=figures.study_rows(res),
                   heterogeneity=figures.heterogeneity(res), egger=figures.egger_rows(egger) if egger else None,
                   forest=figures.forest_spec(res), funnel=figures.funnel_spec(res),
                   correction=es.correction if es.corrected else "")
    return render(request, "trials_meta.html", context)


def _safety_context(trial: str) -> dict[str, Any]:
    """The trial list, the chosen trial's alert inbox and its latest screen (table and plot)."""
    from theralab.trials.safety.monitor import last_screen, screened_trials
    from theralab.web.pages import trials_figures as figures

    screened = screened_trials()
    with session_scope() as session:
        subjects = sorted({a.subject for a in alert_store.list_alerts(session, domain="trials")})
        trials = sorted(set(subjects) | set(screened))
        trial = trial or (trials[0] if trials else "")
        inbox = [a.to_dict() for a in alert_store.list_alerts(session, domain="trials", subject=trial or None)] \
            if trial else []
    table = last_screen(trial) if trial else None
    rows = figures.signal_rows(table) if table is not None else None
    return {"trial": trial, "trials": trials, "alerts": inbox, "table": rows, "screened": screened.get(trial),
            "plot": figures.disproportionality_spec(rows) if rows else None,
            "n_signals": sum(1 for r in rows if r["signal"]) if rows else 0}


@router.get("/trials/safety", response_class=HTMLResponse)
def safety_page(request: Request, user: WebUser, trial: str = "") -> HTMLResponse:
    require_role(set(user.roles), "clinician", "researcher")
    return render(request, "trials_safety.html", {**_safety_context(trial), "may_ack": _may_ack(user)})


def _may_ack(user: WebUser) -> bool:
    """Acknowledging an alert is a clinician's act (the monitoring route checks it again)."""
    return bool({"clinician", "admin"} & set(user.roles))


@router.post("/trials/safety", response_class=HTMLResponse)
async def safety_submit(request: Request, user: WebUser, trial: str = Form(...),
                        upload: UploadFile = File(...)) -> HTMLResponse:
    from theralab.trials.safety.monitor import screen_reports

    require_role(set(user.roles), "clinician", "researcher")
    try:
        if not trial.strip():
            raise InputError("give the trial id the reports belong to", where="trial")
        content = await upload.read(UPLOAD_LIMIT + 1)
        if len(content) > UPLOAD_LIMIT:
            raise InputError("the reports file is over 50 MB", where="upload",
                             hint="larger report sets: 'theralab trials safety disproportionality' or the API")
        reports = pd.read_csv(io.BytesIO(content))
        with session_scope() as session:
            screen_reports(session, reports, trial.strip())
    except (InputError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        return render(request, "trials_safety.html", {**_safety_context(""), "problem": str(exc), "new_trial": trial,
                                                       "may_ack": _may_ack(user)},
                      status_code=422)
    user.audit("trials.safety.screen", "Trial", trial.strip())
    return render(request, "trials_safety.html", {**_safety_context(trial.strip()), "may_ack": _may_ack(user)})
