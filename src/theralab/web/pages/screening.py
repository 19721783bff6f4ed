"""The screening page: pick a library and actives, set objectives with sliders, run as a job,
watch progress, then browse the hits report with structures."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from theralab.discovery.screening.config import parse_config
from theralab.errors import InputError
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
        parse_config(config, "web form")
    except InputError as exc:
        return render(request, "screening.html", {"libraries": _libraries(), "problem": str(exc)}, status_code=422)
    job_id = create_job("screen.run", config, owner=user.username)
    user.audit("screen.run", "Job", job_id)
    start_in_background(job_id)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)
