"""``/v1/jobs``: upload data, submit long work on it, poll it, stream its progress, cancel, resume, download.

A job submitted over the network takes data, not paths: its input is an upload (``POST
/v1/jobs/uploads``) or a registered library named by id, and its output lands in the job's own
folder under the data directory (see :mod:`theralab.api.job_params`). Each kind says which roles may
run it (:data:`theralab.privacy.confine.JOB_ROLES`). The command line keeps plain paths.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, Field

from theralab.api.job_params import build_params, validate_params
from theralab.api.schemas import RequestModel
from theralab.api.uploads import read_upload
from theralab.errors import ConflictError, InputError, NotFoundError
from theralab.privacy.confine import check_kind_allowed, confined, uploads_root
from theralab.privacy.deps import CurrentUser
from theralab.runtime import jobs as runtime_jobs
from theralab.runtime.db import session_scope
from theralab.runtime.tables import TERMINAL, Job
from theralab.settings import get_settings

router = APIRouter(prefix="/jobs", tags=["jobs"])

#: Largest upload accepted (bytes); larger libraries are registered by an administrator instead.
MAX_UPLOAD_BYTES = 200 * 1024 * 1024

JobId = Annotated[str, PathParam(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]


class JobCreate(RequestModel):

    kind: str = Field(max_length=80, description="job kind: 'chem.profile', 'admet.predict', 'screen.run' or "
                      "'selftest'")
    params: dict[str, Any] = Field(default_factory=dict, description="the kind's parameters; data is named by "
                                   "'upload_id' or 'library', never by a server path")


class JobPublic(BaseModel):
    """A job as its owner sees it (server paths are shown by file name only)."""

    id: str
    kind: str
    params: dict[str, Any]
    status: str
    progress: float
    done_chunks: int
    total_chunks: int
    message: str
    result_name: str | None
    error: str | None
    owner: str
    attempts: int
    created_at: str | None
    started_at: str | None
    finished_at: str | None


class UploadOut(BaseModel):
    upload_id: str
    filename: str
    bytes: int


_ABS_PATH = re.compile(r"(?<![\w:/.])/(?:[^/\s'\"]+/)+([^/\s'\"]+)")


def _hide_paths(value: Any) -> Any:
    """Replace absolute server paths inside job params by their file name (no layout leaks)."""
    if isinstance(value, dict):
        return {k: _hide_paths(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide_paths(v) for v in value]
    if isinstance(value, str):
        return _ABS_PATH.sub(lambda m: m.group(1), value)  # also inside messages: "... in /srv/x/y.csv"
    return value


def public(job: dict[str, Any]) -> JobPublic:
    """The API view of a job row."""
    data = {k: v for k, v in job.items() if k != "result_location"}
    location = job.get("result_location")
    data["params"] = _hide_paths(job.get("params") or {})
    data["result_name"] = Path(location).name if location else None
    data["error"] = _hide_paths(job.get("error")) if job.get("error") else None
    data["message"] = _hide_paths(job.get("message") or "")
    return JobPublic(**data)


def _owned(job_id: str, user: CurrentUser) -> dict[str, Any]:
    return runtime_jobs.get_owned_job(job_id, user.username, "admin" in user.roles)


@router.post("/uploads", response_model=UploadOut, status_code=201)
async def upload(user: CurrentUser, file: Annotated[UploadFile, File(description="molecule file")]) -> UploadOut:
    """Keep a molecule file (SMILES, CSV/TSV, SDF, Parquet) in the caller's upload area; returns its id."""
    check_kind_allowed("chem.profile", user.roles)  # uploads feed molecule jobs: same roles
    from theralab.chem.io import detect_format

    name = Path(file.filename or "").name
    if not name:
        raise InputError("the upload has no file name", where="file", hint="name it e.g. library.smi or mols.csv")
    try:
        detect_format(Path(name))  # the one molecule reader decides which files are molecule files
    except InputError as exc:
        raise InputError(f"unsupported file type {Path(name).suffix or '(none)'}", where="file",
                         hint=exc.hint) from None
    data = await read_upload(file, MAX_UPLOAD_BYTES, hint="ask an administrator to register it as a library")
    upload_id = uuid.uuid4().hex
    root = uploads_root(Path(get_settings().data_dir), user.username)
    folder = confined(root / upload_id, root, "file")
    folder.mkdir(parents=True, exist_ok=False)
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:120] or "upload"
    (folder / safe).write_bytes(data)
    user.audit("job.upload", "Upload", upload_id)
    return UploadOut(upload_id=upload_id, filename=safe, bytes=len(data))


@router.post("", status_code=202, response_model=JobPublic)
def submit(body: JobCreate, user: CurrentUser) -> JobPublic:
    """Create a job on uploaded or registered data and start it; poll ``GET /v1/jobs/{id}`` or stream ``/events``."""
    runtime_jobs.load_kind(body.kind)  # unknown kind: 422 listing the known ones
    try:
        check_kind_allowed(body.kind, user.roles)
    except Exception:
        user.audit("job.submit", "Job", body.kind, outcome="denied")
        raise
    request = validate_params(body.kind, body.params)
    job_id = str(uuid.uuid4())
    settings = get_settings()
    params = build_params(body.kind, request, data_dir=Path(settings.data_dir), username=user.username,
                          workdir=runtime_jobs.job_dir(job_id))
    with session_scope() as session:
        session.add(Job(id=job_id, kind=body.kind, params=params, owner=user.username, status="queued"))
    user.audit("job.submit", "Job", job_id)
    runtime_jobs.start_in_background(job_id)
    return public(runtime_jobs.get_job(job_id))


@router.get("", response_model=list[JobPublic])
def list_jobs(user: CurrentUser) -> list[JobPublic]:
    """The caller's latest jobs (all jobs for an admin)."""
    return [public(j) for j in runtime_jobs.list_jobs(owner=None if "admin" in user.roles else user.username)]


@router.get("/{job_id}", response_model=JobPublic)
def read(job_id: JobId, user: CurrentUser) -> JobPublic:
    """One job's state and progress."""
    return public(_owned(job_id, user))


@router.post("/{job_id}/cancel", response_model=JobPublic)
def cancel(job_id: JobId, user: CurrentUser) -> JobPublic:
    """Ask a job to stop; finished chunks are kept."""
    _owned(job_id, user)
    runtime_jobs.cancel_job(job_id)
    user.audit("job.cancel", "Job", job_id)
    return public(runtime_jobs.get_job(job_id))


@router.post("/{job_id}/resume", status_code=202, response_model=JobPublic)
def resume(job_id: JobId, user: CurrentUser) -> JobPublic:
    """Resume an interrupted, failed or cancelled job: only unfinished chunks run."""
    job = _owned(job_id, user)
    if job["status"] in ("running", "queued", "succeeded"):
        raise ConflictError(f"job {job_id} is {job['status']}; only a stopped job can be resumed")
    runtime_jobs.start_in_background(job_id)
    user.audit("job.resume", "Job", job_id)
    return public(runtime_jobs.get_job(job_id))


@router.get("/{job_id}/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "job JSON per change"}})
async def events(job_id: JobId, user: CurrentUser) -> StreamingResponse:
    """Server-sent events: one ``data:`` line of job JSON whenever it changes, until it ends."""
    _owned(job_id, user)

    async def stream() -> AsyncIterator[str]:
        last = None
        while True:
            job = await asyncio.to_thread(runtime_jobs.get_job, job_id)
            snapshot = (job["status"], job["done_chunks"], job["total_chunks"], job["message"])
            if snapshot != last:
                last = snapshot
                yield f"data: {public(job).model_dump_json()}\n\n"
            if job["status"] in TERMINAL or job["status"] == "interrupted":
                yield "event: end\ndata: {}\n\n"
                return
            await asyncio.sleep(0.3)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


@router.get("/{job_id}/result", response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "the result file"}})
def result(job_id: JobId, user: CurrentUser) -> FileResponse:
    """Download the job's result file (only ever a file inside the data directory)."""
    job = _owned(job_id, user)
    location = job.get("result_location")
    if job["status"] != "succeeded" or not location:
        raise NotFoundError(f"job {job_id} has no result yet (status {job['status']})")
    path = confined(Path(location), Path(get_settings().data_dir), "result")
    if not path.is_file():
        raise NotFoundError(f"job {job_id}'s result file is gone")
    user.audit("job.result", "Job", job_id)
    return FileResponse(path, filename=path.name)

