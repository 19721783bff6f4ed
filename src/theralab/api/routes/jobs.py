"""``/v1/jobs``: submit long work, poll it, stream its progress, cancel or resume it, download results."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from theralab.errors import NotFoundError
from theralab.privacy.deps import CurrentUser
from theralab.runtime import jobs as runtime_jobs
from theralab.runtime.tables import TERMINAL

router = APIRouter(prefix="/jobs", tags=["jobs"])


class JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="job kind, e.g. 'chem.profile' or 'selftest'")
    params: dict[str, Any] = Field(default_factory=dict)


def _owned(job_id: str, user: CurrentUser) -> dict[str, Any]:
    return runtime_jobs.get_owned_job(job_id, user.username, "admin" in user.roles)


@router.post("", status_code=202)
def submit(body: JobCreate, user: CurrentUser) -> dict[str, Any]:
    """Create a job and start it in the background; poll ``GET /v1/jobs/{id}`` or stream ``/events``."""
    job_id = runtime_jobs.create_job(body.kind, body.params, owner=user.username)
    user.audit("job.submit", "Job", job_id)
    runtime_jobs.start_in_background(job_id)
    return runtime_jobs.get_job(job_id)


@router.get("")
def list_jobs(user: CurrentUser) -> list[dict[str, Any]]:
    """The caller's latest jobs (all jobs for an admin)."""
    return runtime_jobs.list_jobs(owner=None if "admin" in user.roles else user.username)


@router.get("/{job_id}")
def read(job_id: str, user: CurrentUser) -> dict[str, Any]:
    """One job's state and progress."""
    return _owned(job_id, user)


@router.post("/{job_id}/cancel")
def cancel(job_id: str, user: CurrentUser) -> dict[str, Any]:
    """Ask a job to stop; finished chunks are kept."""
    _owned(job_id, user)
    runtime_jobs.cancel_job(job_id)
    user.audit("job.cancel", "Job", job_id)
    return runtime_jobs.get_job(job_id)


@router.post("/{job_id}/resume", status_code=202)
def resume(job_id: str, user: CurrentUser) -> dict[str, Any]:
    """Resume an interrupted, failed or cancelled job: only unfinished chunks run."""
    _owned(job_id, user)
    runtime_jobs.start_in_background(job_id)
    user.audit("job.resume", "Job", job_id)
    return runtime_jobs.get_job(job_id)


@router.get("/{job_id}/events")
async def events(job_id: str, user: CurrentUser) -> StreamingResponse:
    """Server-sent events: one ``data:`` line of job JSON whenever it changes, until it ends."""
    _owned(job_id, user)

    async def stream() -> AsyncIterator[str]:
        last = None
        while True:
            job = await asyncio.to_thread(runtime_jobs.get_job, job_id)
            snapshot = (job["status"], job["done_chunks"], job["total_chunks"], job["message"])
            if snapshot != last:
                last = snapshot
                yield f"data: {json.dumps(job)}\n\n"
            if job["status"] in TERMINAL or job["status"] == "interrupted":
                yield "event: end\ndata: {}\n\n"
                return
            await asyncio.sleep(0.3)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


@router.get("/{job_id}/result")
def result(job_id: str, user: CurrentUser) -> FileResponse:
    """Download the job's result file."""
    job = _owned(job_id, user)
    location = job.get("result_location")
    if job["status"] != "succeeded" or not location or not Path(location).is_file():
        raise NotFoundError(f"job {job_id} has no result yet (status {job['status']})")
    return FileResponse(location, filename=Path(location).name)
