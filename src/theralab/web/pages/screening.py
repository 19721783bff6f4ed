"""The screening page: pick a library and actives, set objectives with sliders, run as a job,
watch progress, then browse the hits report with structures."""

from __future__ import annotations

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


def _libraries() -> list[str]:
    folder = Path(get_settings().data_dir) / "libraries"
    return sorted(p.name for p in folder.glob("*") if p.suffix in (".csv", ".parquet", ".sdf", ".smi", ".gz"))


@router.get("/screening", response_class=HTMLResponse)
def screening_page(request: Request, user: WebUser) -> HTMLResponse:
    return render(request, "screening.html", {"libraries": _libraries(), "problem": None})


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
            import uuid

            own = uploads_root(Path(settings.data_dir), user.username) / uuid.uuid4().hex
            own.mkdir(parents=True)
            path = own / (Path(upload.filename).name or "library.csv")
            path.write_bytes(await upload.read())
        elif library and library in _libraries():
            path = folder / library
        else:
            raise InputError("choose a library or upload one", where="library")
        active_list = [line.split()[0] for line in actives.splitlines() if line.strip()]
        objectives = [{"column": "qed", "goal": "maximize", "low": 0.2, "high": 0.9, "weight": w_qed}]
        config = {
            "run": {"name": f"web screen of {path.name}", "library": str(path), "chunk_size": 2000,
                    "output_dir": str(Path(settings.data_dir) / "screens" / user.username / path.stem)},
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
        return render(request, "screening.html", {"libraries": _libraries(), "problem": str(exc)}, status_code=422)
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
