"""The jobs page: the user's jobs with live progress (server-sent events)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from theralab.runtime.jobs import get_job, list_jobs
from theralab.web.pages import WebUser
from theralab.web.templating import render

router = APIRouter()


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, user: WebUser) -> HTMLResponse:
    rows = list_jobs(owner=None if "admin" in user.roles else user.username)
    return render(request, "jobs.html", {"jobs": rows})


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(job_id: str, request: Request, user: WebUser) -> HTMLResponse:
    return render(request, "job.html", {"job": get_job(job_id)})
