"""The screening page: pick a library and actives, set objectives with sliders, run as a job,
watch progress, then browse the run's hits (structures, query actives marked, why each passed) on
``/screening/runs/{job}``, a page of the site with its navigation, downloads and a way back.

The library selector lists registered libraries first (``theralab screen library add``; the demo
registers ``demo-screening``) and library files in ``<data dir>/libraries``; it defaults to the
first registered one, so the first run from the page works without choosing anything.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from theralab.discovery.screening import check_config
from theralab.discovery.screening.config import parse_config
from theralab.errors import InputError, TheralabError
from theralab.settings import get_settings
from theralab.web.pages import WebUser
from theralab.web.templating import mark_built, render

router = APIRouter()
mark_built("screening")


def _libraries() -> list[dict[str, str]]:
    """Libraries the form offers: registered ones (by name), then raw files in the libraries folder."""
    from theralab.discovery.screening import list_libraries

    options = [{"value": m["name"], "label": f"{m['name']} ({m.get('unique', '?')} molecules, registered)"}
               for m in list_libraries()]
    folder = Path(get_settings().data_dir) / "libraries"
    options += [{"value": p.name, "label": f"{p.name} (file)"} for p in sorted(folder.glob("*"))
                if p.is_file() and p.suffix in (".csv", ".parquet", ".sdf", ".smi", ".gz")]
    return options


def _runs(user: WebUser) -> list[dict]:
    """The user's screening runs, latest first (an admin sees everyone's), then the shared example runs."""
    from theralab.runtime.jobs import SHARED_OWNER, list_jobs

    jobs = list_jobs(owner=None if "admin" in user.roles else user.username, limit=200)
    own = [j for j in jobs if j["kind"] == "screen.run"][:20]
    shared = [j for j in list_jobs(owner=SHARED_OWNER, limit=20) if j["kind"] == "screen.run"]
    return own + [j for j in shared if j["id"] not in {o["id"] for o in own}]


def _may_run(user: WebUser) -> bool:
    """Whether the user may start a screening run (the job-kind table of privacy.confine decides)."""
    from theralab.errors import ForbiddenError
    from theralab.privacy.confine import check_kind_allowed

    try:
        check_kind_allowed("screen.run", set(user.roles))
    except ForbiddenError:
        return False
    return True


def _page(request: Request, user: WebUser, problem: str | None = None, selected: str = "",
          status_code: int = 200) -> HTMLResponse:
    libraries = _libraries()
    values = [lib["value"] for lib in libraries]
    chosen = selected if selected in values else (values[0] if values else "")
    may_run = _may_run(user)
    return render(request, "screening.html", {"libraries": libraries, "selected": chosen, "problem": problem,
                                              "runs": _runs(user), "may_run": may_run}, status_code=status_code)


@router.get("/screening", response_class=HTMLResponse)
def screening_page(request: Request, user: WebUser) -> HTMLResponse:
    return _page(request, user)


@router.post("/screening")
async def screening_run(
    request: Request,
    user: WebUser,
    library: str = Form(""),
    upload: UploadFile | None = File(None),
    actives: str = Form(""),
    w_similarity: float = Form(2.0),
    w_qed: float = Form(1.0),
    mw_max: float = Form(500.0),
    max_alerts: int = Form(0),
    top_n: int = Form(20),
    method: str = Form("butina"),
    herg_max: str = Form(""),
    ames_max: str = Form(""),
    sol_min: str = Form(""),
    sol_max: str = Form(""),
    w_herg: str = Form(""),
) -> Response:
    from theralab.privacy.confine import check_kind_allowed, uploads_root
    from theralab.runtime.jobs import create_job, start_in_background

    settings = get_settings()
    folder = Path(settings.data_dir) / "libraries"
    check_kind_allowed("screen.run", user.roles)
    try:
        if upload is not None and upload.filename:
            # an upload goes to the caller's own upload area (never over a shared library file)
            own = uploads_root(Path(settings.data_dir), user.username) / uuid.uuid4().hex
            own.mkdir(parents=True)
            path = own / (Path(upload.filename).name or "library.csv")
            path.write_bytes(await upload.read())
        elif library and library in {lib["value"] for lib in _libraries()}:
            path = folder / library  # a registered library is a folder: the run names it, the pipeline finds it
        else:
            raise InputError("choose a library or upload one", where="library")
        active_list = [line.split()[0] for line in actives.splitlines() if line.strip()]
        objectives = [{"column": "qed", "goal": "maximize", "low": 0.2, "high": 0.9, "weight": w_qed}]
        config = {
            "run": {"name": f"web screen of {path.name}", "library": path.name if path.is_dir() else str(path),
                    "chunk_size": 2000,
                    "output_dir": str(Path(settings.data_dir) / "screens" / user.username
                                      / f"{path.stem}-{uuid.uuid4().hex[:8]}")},
            "filters": {"rules": ["lipinski"], "max_alerts": max_alerts, "ranges": {"mw": [0, mw_max]}},
            "diversity": {"method": method, "top_n": top_n},
            "objectives": objectives,
        }
        if active_list:
            config["similarity"] = {"actives": active_list, "fusion": "max"}
            objectives.insert(0, {"column": "similarity", "goal": "maximize", "low": 0.1, "high": 0.7,
                                  "weight": w_similarity})
        _panel_filters(config, herg_max, ames_max, sol_min, sol_max, bool(w_herg))
        check_config(parse_config(config, "web form"))
    except TheralabError as exc:
        return _page(request, user, str(exc), library, status_code=422)
    job_id = create_job("screen.run", config, owner=user.username)
    user.audit("screen.run", "Job", job_id)
    start_in_background(job_id)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


def _number(text: str, name: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise InputError(f"{name} must be a number, got {text!r}", where=name) from None


def _panel_filters(config: dict, herg_max: str, ames_max: str, sol_min: str, sol_max: str, rank_herg: bool) -> None:
    """Add the ADMET panel and its filters to a form's run when any panel field is filled in."""
    herg, ames = _number(herg_max, "herg_max"), _number(ames_max, "ames_max")
    low, high = _number(sol_min, "sol_min"), _number(sol_max, "sol_max")
    require = ([f"hERG <= {herg:g}"] if herg is not None else []) + ([f"AMES < {ames:g}"] if ames is not None else [])
    if low is not None or high is not None:
        config["filters"]["ranges"]["Solubility_AqSolDB"] = [low if low is not None else -20.0,
                                                             high if high is not None else 10.0]
    if rank_herg:
        config["objectives"].append({"column": "hERG", "goal": "minimize", "low": 0.0, "high": 0.5, "weight": 1.0})
    if require or rank_herg or "Solubility_AqSolDB" in config["filters"]["ranges"]:
        config["filters"]["require"] = require
        config["models"] = [{"name": "panel"}]


#: Hit-table columns besides id, structure and score: (column, header, unit).
HIT_COLUMNS = [("similarity", "Similarity to nearest active", "Tanimoto"),
               ("mw", "MW", "Da"), ("clogp", "cLogP", ""), ("qed", "QED", ""),
               ("tpsa", "TPSA", "Å²")]


def _run_result(job: dict) -> tuple[Path, dict]:
    from theralab.discovery.screening import screen_summary
    from theralab.errors import NotFoundError

    location = job.get("result_location")
    if job["kind"] != "screen.run":
        raise NotFoundError(f"job {job['id']} is not a screening run", hint="see /jobs")
    if job["status"] != "succeeded" or not location or not Path(location).is_file():
        raise NotFoundError(f"screening run {job['id'][:8]} has no results yet ({job['status']})",
                            hint=f"follow its progress on /jobs/{job['id']}")
    return Path(location), screen_summary(location)


@router.get("/screening/runs/{job_id}", response_class=HTMLResponse)
def screening_run_page(job_id: str, request: Request, user: WebUser, download: str = "") -> Response:
    """A finished run: its funnel, the diverse hits with structures, query actives and why each passed.

    ``?download=hits.csv`` gives the hits as CSV (the file the API's job result gives).
    """
    import pandas as pd
    from fastapi.responses import FileResponse

    from theralab.chem.depict import mol_to_svg
    from theralab.runtime.jobs import get_readable_job

    job = get_readable_job(job_id, user.username, "admin" in user.roles)
    if job["kind"] == "screen.run" and job["status"] != "succeeded":
        return RedirectResponse(f"/jobs/{job_id}", status_code=303)  # still running: its live progress page
    hits_path, funnel = _run_result(job)
    if download == "hits.csv":
        return FileResponse(hits_path, media_type="text/csv", filename=f"hits-{job_id[:8]}.csv")
    if download:
        raise InputError(f"unknown download {download!r}", where="download", hint="hits.csv")
    frame = pd.read_csv(hits_path)
    columns = [(c, h, u) for c, h, u in HIT_COLUMNS if c in frame.columns]
    hits = []
    for rank, rec in enumerate(frame.to_dict("records"), start=1):
        query = rec.get("query_active")
        hits.append({"rank": rank, "id": rec["id"], "smiles": rec["smiles"], "score": rec.get("score"),
                     "svg": mol_to_svg(rec["smiles"], width=160, height=120),
                     "query_active": query if isinstance(query, str) and query else "",
                     "nearest": rec.get("nearest_active") if isinstance(rec.get("nearest_active"), str) else "",
                     "values": {c: rec.get(c) for c, _, _ in columns},
                     "reasons": [r for r in str(rec.get("reasons") or "").split("; ") if r]})
    config = job.get("params") or {}
    stages = [(k, v) for k, v in funnel.items() if k not in ("ranking",)]
    return render(request, "screening_run.html", {
        "job": job, "hits": hits, "columns": columns, "stages": stages, "ranking": funnel.get("ranking", ""),
        "name": config.get("run", {}).get("name", f"run {job_id[:8]}"),
        "library": Path(str(config.get("run", {}).get("library", ""))).name,
        "actives": (config.get("similarity") or {}).get("actives", []),
        "n_query": sum(1 for h in hits if h["query_active"]),
        "own": job["owner"] == user.username or "admin" in user.roles})


@router.get("/screening/runs/{job_id}/report", response_class=HTMLResponse)
def screening_run_report(job_id: str, user: WebUser) -> Response:
    """The run's standalone HTML report (the file its output folder holds; it links back here)."""
    from fastapi.responses import FileResponse

    from theralab.errors import NotFoundError
    from theralab.runtime.jobs import get_readable_job

    hits_path, _ = _run_result(get_readable_job(job_id, user.username, "admin" in user.roles))
    report = hits_path.parent / "report.html"
    if not report.is_file():
        raise NotFoundError(f"screening run {job_id[:8]} has no report")
    return FileResponse(report, media_type="text/html")
