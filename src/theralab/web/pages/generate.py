"""The generative-design page: objectives as a form that writes the run file, a run as a job, live view.

``GET /generate`` shows the objective form (each field validated inline as the user types, through
``POST /generate/check``, which answers the run file's TOML and per-field errors), the shipped
priors with their cards' figures and the user's recent runs. ``POST /generate`` starts a
``generate.run`` job (the same strict path as ``POST /v1/jobs``). ``GET /generate/jobs/{id}`` is
the live view: the score curve and the top molecules refresh on the job's event stream;
``/generate/jobs/{id}/live.json`` gives the curve spec and the top table (with structures) to swap in.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from theralab.errors import InputError, TheralabError
from theralab.web.pages import WebUser
from theralab.web.templating import mark_built, render

router = APIRouter()
mark_built("generate")
JobId = Annotated[str, PathParam(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]

#: Form defaults (also what the page shows first): a drug-likeness search from a few known drugs.
DEFAULTS: dict[str, str] = {
    "optimizer": "ga", "budget": "300", "seed": "0", "prior": "smiles-gru-prior", "aggregate": "geometric",
    "start_smiles": "CC(=O)Oc1ccccc1C(=O)O\nCN1CCCC1c1cccnc1\nCC(C)Cc1ccc(C(C)C(=O)O)cc1\nCCOC(=O)c1ccccc1",
    "use_qed": "on", "w_qed": "2", "use_sa": "on", "w_sa": "1", "sa_low": "2.5", "sa_high": "5",
    "use_mw": "on", "w_mw": "1", "mw_low": "250", "mw_high": "450",
    "use_logp": "", "w_logp": "1", "logp_low": "1", "logp_high": "4",
    "use_sim": "", "w_sim": "1", "sim_smiles": "", "require_smarts": "", "forbid_smarts": "[#16]",
}


def _priors() -> list[dict[str, Any]]:
    from theralab.models.registry import list_models

    return [m for m in list_models() if m.get("task") == "generation" and m.get("origin") == "package"]


def _number(form: dict[str, str], key: str, errors: dict[str, str], *, integer: bool = False,
            low: float | None = None, high: float | None = None) -> float:
    text = (form.get(key) or "").strip()
    try:
        value = int(text) if integer else float(text)
        if not math.isfinite(value):
            raise ValueError
    except ValueError:
        errors[key] = f"enter a {'whole ' if integer else ''}number"
        return 0.0
    if (low is not None and value < low) or (high is not None and value > high):
        errors[key] = f"must be between {low:g} and {high:g}"
    return value


def form_to_spec(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The run file a form describes, and the errors keyed by form field (empty when it is valid).

    Why field by field: a message next to the field that caused it is what the user can act on;
    the run-file validator then checks the whole (and anything it still finds goes under ``form``).
    """
    from rdkit import Chem, rdBase

    errors: dict[str, str] = {}
    on = {k: bool(form.get(k)) for k in ("use_qed", "use_sa", "use_mw", "use_logp", "use_sim")}
    budget = int(_number(form, "budget", errors, integer=True, low=10, high=20_000))
    run: dict[str, Any] = {"optimizer": form.get("optimizer", "ga"), "budget": budget,
                           "seed": int(_number(form, "seed", errors, integer=True, low=0, high=2**31 - 1)),
                           "top_k": 200}
    if run["optimizer"] not in ("ga", "rl", "gan"):
        errors["optimizer"] = "choose Graph GA, reinforcement learning or GAN"
    prior = (form.get("prior") or "").strip()
    if run["optimizer"] in ("rl", "gan") or not form.get("start_smiles", "").strip():
        if prior not in {p["name"] for p in _priors()}:
            errors["prior"] = "choose one of the shipped priors"
        run["prior"] = prior
    start = [line.split()[0] for line in (form.get("start_smiles") or "").splitlines() if line.strip()]
    with rdBase.BlockLogs():
        bad = [f"line {i + 1}" for i, s in enumerate(start) if Chem.MolFromSmiles(s) is None]
    if bad:
        errors["start_smiles"] = "not a valid SMILES: " + ", ".join(bad[:5])
    elif len(start) > 1000:
        errors["start_smiles"] = "at most 1,000 molecules"
    elif run["optimizer"] == "ga" and 0 < len(start) < 2:
        errors["start_smiles"] = "Graph GA needs at least 2 starting molecules (or none: it samples the prior)"
    run["start_smiles"] = start
    comps: list[dict[str, Any]] = []
    if on["use_qed"]:
        comps.append({"name": "qed", "type": "qed", "weight": _number(form, "w_qed", errors, low=0, high=100)})
    if on["use_sa"]:
        lo, hi = _number(form, "sa_low", errors, low=1, high=10), _number(form, "sa_high", errors, low=1, high=10)
        if "sa_low" not in errors and "sa_high" not in errors and lo >= hi:
            errors["sa_high"] = "must be above the lower SA bound"
        comps.append({"name": "sa", "type": "sa_score", "weight": _number(form, "w_sa", errors, low=0, high=100),
                      "desirability": {"kind": "minimize", "low": lo, "high": hi}})
    for key, descriptor, width in (("mw", "mw", 50.0), ("logp", "clogp", 1.0)):
        if on[f"use_{key}"]:
            lo = _number(form, f"{key}_low", errors, low=-1e6, high=1e6)
            hi = _number(form, f"{key}_high", errors, low=-1e6, high=1e6)
            if f"{key}_low" not in errors and f"{key}_high" not in errors and lo >= hi:
                errors[f"{key}_high"] = "must be above the lower bound"
            comps.append({"name": key, "type": "property", "descriptor": descriptor,
                          "weight": _number(form, f"w_{key}", errors, low=0, high=100),
                          "desirability": {"kind": "range", "low": lo, "high": hi, "width": width}})
    if on["use_sim"]:
        ref = (form.get("sim_smiles") or "").strip()
        with rdBase.BlockLogs():
            if not ref or Chem.MolFromSmiles(ref) is None:
                errors["sim_smiles"] = "give the reference molecule as a valid SMILES"
        comps.append({"name": "similarity", "type": "similarity", "smiles": ref,
                      "weight": _number(form, "w_sim", errors, low=0, high=100),
                      "desirability": {"kind": "maximize", "low": 0.0, "high": 0.7, "shape": "linear"}})
    for key, mode in (("require_smarts", "require"), ("forbid_smarts", "forbid")):
        patterns = [p.strip() for p in (form.get(key) or "").replace(",", " ").split() if p.strip()]
        for i, pattern in enumerate(patterns):
            with rdBase.BlockLogs():
                if Chem.MolFromSmarts(pattern) is None:
                    errors[key] = f"SMARTS {pattern!r} does not parse"
            comps.append({"name": f"{mode}_{i + 1}", "type": "substructure", "smarts": pattern, "mode": mode})
    if not comps:
        errors["form"] = "turn on at least one objective"
    elif sum(c.get("weight", 1.0) for c in comps) <= 0:
        errors["form"] = "give at least one objective a weight above 0"
    spec = {"run": run, "scoring": {"aggregate": form.get("aggregate", "geometric"), "components": comps}}
    if not errors:
        from theralab.discovery.generate.schemas import check_remote, parse_run

        try:
            check_remote(parse_run(spec, where="form"))
        except TheralabError as exc:
            errors["form"] = str(exc)
    return spec, errors


async def _form(request: Request) -> dict[str, str]:
    data = await request.form()
    return {k: str(v) for k, v in data.items() if isinstance(v, str)}


@router.get("/generate", response_class=HTMLResponse)
def generate_page(request: Request, user: WebUser) -> HTMLResponse:
    return _page(request, user, dict(DEFAULTS), {})


def _page(request: Request, user: Any, form: dict[str, str], errors: dict[str, str], status: int = 200) -> HTMLResponse:
    from theralab.discovery.generate.schemas import spec_to_toml
    from theralab.runtime.jobs import list_jobs

    spec, found = form_to_spec(form)
    runs = [j for j in list_jobs(owner=None if "admin" in user.roles else user.username, limit=100)
            if j["kind"] == "generate.run"][:10]
    return render(request, "generate.html", {"form": form, "errors": errors or {}, "toml": spec_to_toml(spec),
                                             "priors": _priors(), "runs": runs}, status_code=status)


@router.post("/generate/check")
async def generate_check(request: Request, user: WebUser) -> JSONResponse:
    """The form's run file as TOML and its errors by field (the page calls this as the user types)."""
    from theralab.discovery.generate.schemas import spec_to_toml

    spec, errors = form_to_spec(await _form(request))
    return JSONResponse({"toml": spec_to_toml(spec), "errors": errors, "ok": not errors})


@router.post("/generate")
async def generate_start(request: Request, user: WebUser) -> Response:
    from theralab.discovery.generate.jobs import submit_run
    from theralab.privacy.confine import check_kind_allowed
    from theralab.runtime.jobs import start_in_background

    check_kind_allowed("generate.run", user.roles)
    form = await _form(request)
    spec, errors = form_to_spec(form)
    if errors:
        return _page(request, user, form, errors, status=422)
    chunk = max(10, math.ceil(spec["run"]["budget"] / 20))
    try:  # form_to_spec applied the API's rules (check_remote, budget <= 20,000)
        job_id = submit_run(spec, owner=user.username, chunk_budget=chunk)
    except InputError as exc:
        return _page(request, user, form, {"form": str(exc)}, status=422)
    user.audit("job.submit", "Job", job_id)
    start_in_background(job_id)
    return RedirectResponse(f"/generate/jobs/{job_id}", status_code=303)


def _job(job_id: str, user: Any) -> dict[str, Any]:
    from theralab.runtime.jobs import get_owned_job

    job = get_owned_job(job_id, user.username, "admin" in user.roles)
    if job["kind"] != "generate.run":
        raise InputError(f"job {job_id} is not a generative-design run", where="job_id")
    return job


def _curve(view: Any) -> dict[str, Any]:
    from theralab.web.charts import chart_spec

    calls = [p["calls"] for p in view["points"]]
    traces = [{"x": calls, "y": [p["best"] for p in view["points"]], "name": "best", "mode": "lines"},
              {"x": calls, "y": [p["top10"] for p in view["points"]], "name": "top-10 mean", "mode": "lines"}]
    return chart_spec("Score while the search runs", ("Scoring calls", None), ("Score", "0–1"), traces,
                      download="generation_curve.csv")


@router.get("/generate/jobs/{job_id}", response_class=HTMLResponse)
def generate_job_page(request: Request, job_id: JobId, user: WebUser) -> HTMLResponse:
    from theralab.discovery.generate.jobs import live_view

    job = _job(job_id, user)
    view = live_view(job, 25)
    user.audit("generate.job.read", "Job", job_id)
    return render(request, "generate_job.html", {"job": job, "view": view, "curve": _curve(view),
                                                 "names": _names(job), "svgs": _svgs(view)})


def _svgs(view: Any) -> dict[str, Any]:
    """Structure drawings of the top molecules (RDKit SVG, generated here, so safe to inline)."""
    from markupsafe import Markup

    from theralab.chem.depict import mol_to_svg

    out = {}
    for m in view["molecules"]:
        try:
            out[m["smiles"]] = Markup(mol_to_svg(m["smiles"], width=180, height=140))
        except TheralabError:  # a molecule RDKit scored but cannot draw: show its SMILES only
            continue
    return out


def _names(job: dict[str, Any]) -> list[str]:
    spec = (job.get("params") or {}).get("spec") or {}
    return [c["name"] for c in (spec.get("scoring") or {}).get("components", [])]


@router.get("/generate/jobs/{job_id}/live.json")
def generate_job_live(request: Request, job_id: JobId, user: WebUser) -> JSONResponse:
    """The curve spec and the top table (HTML with structures) for the live view to swap in."""
    from theralab.discovery.generate.jobs import live_view
    from theralab.web.templating import templates

    job = _job(job_id, user)
    view = live_view(job, 25)
    table = templates.get_template("_generate_top.html").render(view=view, names=_names(job), svgs=_svgs(view))
    summary = templates.get_template("_generate_summary.html").render(view=view, job=job)
    last = view["chunks"][-1] if view["chunks"] else None
    return JSONResponse({"status": job["status"], "curve": _curve(view), "table": table, "summary": summary,
                         "calls": last["calls"] if last else 0, "budget": view["budget"],
                         "diversity": last["diversity_top100"] if last else None})
