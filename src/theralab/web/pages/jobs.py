"""The jobs page: the user's jobs with live progress (server-sent events)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from theralab.errors import NotFoundError
from theralab.privacy.deps import Principal
from theralab.runtime.jobs import get_owned_job, list_jobs
from theralab.web.pages import WebUser
from theralab.web.templating import render

router = APIRouter()

#: What each job kind is, in words (unknown kinds show their name).
KIND_TITLES = {"selftest": "Executor self-test", "chem.profile": "Molecule profiling", "screen.run": "Screening run",
               "admet.predict": "ADMET prediction", "dti.train": "Affinity model training"}

#: Badge level of each job status.
STATUS_BADGE = {"succeeded": "badge-ok", "failed": "badge-high", "cancelled": "badge-muted", "running": "badge-info",
                "queued": "badge-muted"}


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, user: WebUser) -> HTMLResponse:
    rows = list_jobs(owner=None if "admin" in user.roles else user.username)
    return render(request, "jobs.html", {"jobs": rows, "status_badge": STATUS_BADGE, "kind_titles": KIND_TITLES})


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(job_id: str, request: Request, user: WebUser) -> HTMLResponse:
    job = _owned(job_id, user)
    return render(request, "job.html", {"job": job, "has_report": _report(job) is not None,
                                          "status_badge": STATUS_BADGE, "kind_titles": KIND_TITLES})


def _owned(job_id: str, user: Principal) -> dict:
    return get_owned_job(job_id, user.username, "admin" in user.roles)


def _report(job: dict) -> Path | None:
    location = job.get("result_location")
    if not location:
        return None
    report = Path(location).parent / "report.html"
    return report if report.is_file() else None


@router.get("/jobs/{job_id}/report", response_class=HTMLResponse)
def job_report(job_id: str, user: WebUser) -> Response:
    report = _report(_owned(job_id, user))
    if report is None:
        raise NotFoundError(f"job {job_id} has no report")
    return FileResponse(report, media_type="text/html")
