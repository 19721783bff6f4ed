"""Recruitment pages: trials with their parsed criteria (editable), funnel, ranked patients, explanations.

Pages that show patient-derived results (funnel, ranked list, explanation) need the clinician or
researcher role and are audited, like the API; editing criteria needs the same roles and is stored
as a new criteria version with the editor as author.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from theralab.ehr.patients import as_of
from theralab.errors import InputError, TheralabError
from theralab.privacy import careteam, consent
from theralab.privacy.auth import require_role
from theralab.runtime.db import session_scope
from theralab.web.pages import WebUser
from theralab.web.templating import render

router = APIRouter()
BASE = "/trials/matching"


def _clinical(user: Any) -> None:
    require_role(set(user.roles), "clinician", "researcher")


@router.get(BASE, response_class=HTMLResponse)
def trials_page(request: Request, user: WebUser, error: str = "") -> HTMLResponse:
    from theralab.trials.tables import list_trials

    with session_scope() as s:
        rows = list_trials(s)
    return render(request, "trials_match.html", {"rows": rows, "error": error})


@router.post(BASE, response_class=HTMLResponse)
def add_trial_form(request: Request, user: WebUser, trial_id: str = Form(...), title: str = Form(""),
                   text: str = Form(...)) -> HTMLResponse:
    from theralab.trials.criteria.parse import parse_criteria
    from theralab.trials.tables import add_trial

    _clinical(user)
    try:
        crit = parse_criteria(text, trial_id=trial_id.strip())
        with session_scope() as s:
            add_trial(s, trial_id.strip(), crit, title=title, author=user.username)
            user.audit("trials.add", "Trial", trial_id.strip(), session=s)
    except TheralabError as exc:
        with session_scope() as s:
            from theralab.trials.tables import list_trials

            rows = list_trials(s)
        return render(request, "trials_match.html", {"rows": rows, "error": str(exc), "form": {
            "trial_id": trial_id, "title": title, "text": text}}, status_code=422)
    return RedirectResponse(f"{BASE}/{trial_id.strip()}", status_code=303)


def _funnel_figure(f: dict[str, Any]) -> dict[str, Any]:
    """The feasibility funnel as a chart spec (drawn by theralab.js with the house layout)."""
    from theralab.web.charts import chart_spec

    labels = ["Alive at date"] + [f"{s['criterion_id']}: {s['text'][:40]}" for s in f["steps"]]
    values = [f["start"]] + [s["remaining"] for s in f["steps"]]
    removed = [0] + [s["removed"] for s in f["steps"]]
    # plotly draws the first category at the bottom: reversed, the funnel reads top to bottom
    labels, values, removed = labels[::-1], values[::-1], removed[::-1]
    trace = {"type": "bar", "orientation": "h", "y": labels, "x": values, "text": values, "textposition": "auto",
             "name": "patients remaining", "customdata": removed,
             "hovertemplate": "%{y}<br>remaining %{x}<br>removed %{customdata}<extra></extra>"}
    return chart_spec("Patients remaining after each criterion", ("Patients remaining", "count"),
                      ("Criterion (applied top to bottom)", None, "category"), [trace],
                      download="feasibility_funnel.csv")


def logic_text(logic: Any, entities: list[Any]) -> str:
    """A criterion's AND/OR logic in words, entities by their text: "(type 2 diabetes OR prediabetes) AND metformin"."""
    if logic is None:
        return ""
    names = {e.id: e.text for e in entities}

    def walk(node: Any, top: bool) -> str:
        if isinstance(node, str):
            return names.get(node, node)
        inner = f" {node.op} ".join(walk(a, False) for a in node.args)
        return inner if top else f"({inner})"

    return walk(logic, True)


@router.get(BASE + "/patients/{patient_id}", response_class=HTMLResponse)
def trials_for_patient(patient_id: str, request: Request, user: WebUser, at: str = "") -> HTMLResponse:
    """Every stored trial for one patient, best first, each with what passed, failed and is unknown."""
    from theralab.trials.matching.engine import rank_trials
    from theralab.trials.tables import TrialRow
    from theralab.web.pages.patient_view import header

    _clinical(user)
    when = as_of(at)
    with session_scope() as s:
        head = header(s, patient_id, user)
        consent.require(s, patient_id, "trial_contact")
        matches = rank_trials(s, patient_id, at=when)
        titles = {r.id: r.title for r in s.scalars(select(TrialRow))}
        user.audit("trials.match.patient", "Patient", patient_id, session=s)
    return render(request, "trials_match_for_patient.html", {"patient": head, "matches": matches, "titles": titles,
                                                              "at": when.isoformat()})


@router.get(BASE + "/{trial_id}", response_class=HTMLResponse)
def trial_page(trial_id: str, request: Request, user: WebUser, at: str = "", error: str = "") -> HTMLResponse:
    from theralab.trials.matching.engine import evaluate_cohort
    from theralab.trials.tables import current_criteria, get_trial, versions

    _clinical(user)
    when = as_of(at)
    with session_scope() as s:
        row = get_trial(s, trial_id)
        crit, version = current_criteria(s, trial_id)
        hist = versions(s, trial_id)
        cohort = evaluate_cohort(s, crit, at=when, trial_id=trial_id, version=version)
        f = cohort.funnel()
        every = careteam.keep_visible(s, user, cohort.ranked(limit=None))
        contactable = set(consent.filter_allowed(s, [r["patient_id"] for r in every], "trial_contact"))
        ranked = [r for r in every if r["patient_id"] in contactable][:50]  # withdrawn patients never listed
        counts = {c["criterion_id"]: c for c in cohort.counts()}
        from theralab.ehr.header import patient_headers

        names = {pid: h.name for pid, h in patient_headers(s, [r["patient_id"] for r in ranked]).items()}
        user.audit("trials.match.cohort", "Trial", trial_id, session=s)
    return render(request, "trials_match_trial.html", {
        "trial": row, "crit": crit, "version": version, "versions": hist, "funnel": f, "ranked": ranked,
        "counts": counts, "at": when.isoformat(), "error": error, "figure": _funnel_figure(f),
        "logic": {c.id: logic_text(c.logic, c.entities) for c in crit.criteria}, "names": names})


def _codes(text: str) -> list[dict[str, str]]:
    out = []
    for part in [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]:
        if ":" not in part:
            raise InputError(f"code {part!r} needs a system", where="codes", hint="e.g. snomed:44054006, loinc:4548-4")
        system, code = (x.strip() for x in part.split(":", 1))
        out.append({"system": system.lower().replace("-", ""), "code": code, "display": "", "match": "manual"})
    return out


def _edit_from_form(form: dict[str, str]) -> dict[str, Any]:
    op = form.get("op", "")
    if op == "json":
        try:
            return json.loads(form.get("correction", ""))
        except json.JSONDecodeError as exc:
            raise InputError(f"the correction is not JSON: {exc}", where="correction") from exc
    values: dict[str, Any] = {}
    if op in ("update_entity", "add_entity"):
        for key in ("text", "type"):
            if form.get(key):
                values[key] = form[key]
        if "codes" in form:
            values["codes"] = _codes(form["codes"])
        elif form.get("codes_opt"):
            values["codes"] = _codes(form["codes_opt"])
        if op == "add_entity":
            values.setdefault("start", 0)
            values["end"] = len(values.get("text", ""))
        for flag in ("negated", "family", "historical"):  # the forms show these three
            values[flag] = form.get(flag) == "on"
        if form.get("comparator"):
            try:
                values["constraint"] = {"comparator": form["comparator"], "value": float(form.get("value") or "nan"),
                                        "value_high": float(form["value_high"]) if form.get("value_high") else None,
                                        "unit": form.get("unit") or None}
            except ValueError as exc:
                raise InputError("the value must be a number", where="value") from exc
    edit = {"op": op, "criterion_id": form.get("criterion_id") or None, "entity_id": form.get("entity_id") or None,
            "values": values}
    return {"note": form.get("note", ""), "edits": [edit]}


@router.post(BASE + "/{trial_id}/edit", response_class=HTMLResponse)
async def edit_criteria(trial_id: str, request: Request, user: WebUser) -> HTMLResponse:
    from urllib.parse import quote

    from theralab.trials.tables import save_correction

    _clinical(user)
    form = {k: str(v) for k, v in (await request.form()).items()}
    try:
        correction = _edit_from_form(form)
        correction["author"] = user.username
        with session_scope() as s:
            save_correction(s, trial_id, correction)
            user.audit("trials.criteria.correct", "Trial", trial_id, session=s)
    except TheralabError as exc:
        return RedirectResponse(f"{BASE}/{trial_id}?error={quote(str(exc))}", status_code=303)
    except Exception as exc:  # pydantic ValidationError from a malformed correction
        return RedirectResponse(f"{BASE}/{trial_id}?error={quote(str(exc).splitlines()[0])}", status_code=303)
    return RedirectResponse(f"{BASE}/{trial_id}", status_code=303)


@router.get(BASE + "/{trial_id}/patients/{patient_id}", response_class=HTMLResponse)
def patient_page(trial_id: str, patient_id: str, request: Request, user: WebUser, at: str = "",
                 notes: bool = True) -> HTMLResponse:
    from theralab.trials.matching.engine import explain_patient
    from theralab.trials.tables import current_criteria, get_trial

    _clinical(user)
    when = as_of(at)
    with session_scope() as s:
        row = get_trial(s, trial_id)
        user.require_patient(s, patient_id)
        consent.require(s, patient_id, "trial_contact")
        crit, version = current_criteria(s, trial_id)
        m = explain_patient(s, crit, patient_id, at=when, notes=notes, trial_id=trial_id, version=version)
        user.audit("trials.match.patient", "Patient", patient_id, session=s)
        head = _header_or_none(s, patient_id, user)
    return render(request, "trials_match_patient.html", {"trial": row, "m": m, "at": when.isoformat(),
                                                          "notes": notes, "patient": head})


def _header_or_none(session: Any, patient_id: str, user: Any) -> Any:
    """The patient header, or None for a free-text patient that is not in the record."""
    from theralab.errors import NotFoundError
    from theralab.web.pages.patient_view import header

    try:
        return header(session, patient_id, user)
    except NotFoundError:
        return None
