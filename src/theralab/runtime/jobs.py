"""Resumable jobs: long work split into chunks that run on an executor.

A *job kind* is a class with three methods (see :class:`JobKind`):

* ``plan(params, workdir)`` splits the work into chunk specs (JSON-able), once; the plan is saved
  in the job's work directory, so a resumed job sees the same chunks;
* ``run_chunk(params, index, spec, workdir)`` does one chunk and writes its output file(s) under
  ``workdir``; it runs in a worker process (local or Dask) and returns small JSON stats;
* ``finalize(params, workdir, stats)`` joins the chunk outputs into the result and returns its path.

Kinds are registered by dotted path (``"theralab.chem.jobs:ProfileJob"``), so workers on any
machine can import them. A chunk counts as finished only when its marker file
``chunks/<index>.done.json`` exists, written atomically after its output; a job interrupted at any
point (worker killed, server restarted, user cancelled) resumes by running only the chunks without
a marker. That is how no row is ever duplicated or lost.
"""

from __future__ import annotations

import importlib
import json
import os
import threading
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select

from theralab.errors import ConflictError, ForbiddenError, InputError, NotFoundError, TheralabError
from theralab.runtime.db import session_scope, utcnow
from theralab.runtime.executors import Executor, WorkerLost, make_executor
from theralab.runtime.tables import TERMINAL, Job


def write_parquet_atomic(df: Any, path: Path) -> None:
    """Write a chunk's table to ``path`` so that a reader sees the whole file or none of it.

    Why: a chunk file that exists is a finished chunk (resume skips it), so it must never be seen
    half-written; writing to a temporary name and renaming is atomic on POSIX file systems.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp = path.with_suffix(".tmp")
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp)
    os.replace(tmp, path)


class JobKind(Protocol):
    """What a job kind implements (all methods must be picklable module-level class methods)."""

    def plan(self, params: dict[str, Any], workdir: Path) -> list[dict[str, Any]]: ...

    def run_chunk(self, params: dict[str, Any], index: int, spec: dict[str, Any], workdir: Path) -> dict[str, Any]: ...

    def finalize(self, params: dict[str, Any], workdir: Path, stats: list[dict[str, Any]]) -> str: ...


# name -> "module:ClassName"
KINDS: dict[str, str] = {
    "selftest": "theralab.runtime.selftest:SelfTestJob",
    "chem.profile": "theralab.chem.jobs:ProfileJob",
    "screen.run": "theralab.discovery.screening.pipeline:ScreenJob",
    "admet.predict": "theralab.discovery.admet.jobs:AdmetPredictJob",
    "dti.train": "theralab.discovery.dti.jobs:DTITrainJob",
    "generate.run": "theralab.discovery.generate.jobs:GenerateRunJob",
}


def register_kind(name: str, target: str) -> None:
    """Register a job kind by dotted path (``module:Class``)."""
    KINDS[name] = target


def load_kind(name: str) -> JobKind:
    """Instantiate the job kind ``name``; raise InputError listing the known kinds otherwise."""
    target = KINDS.get(name)
    if target is None:
        raise InputError(f"unknown job kind {name!r}", where="kind", hint=f"known kinds: {', '.join(sorted(KINDS))}")
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)()


def job_dir(job_id: str) -> Path:
    """The work directory of a job (chunk outputs, plan, result)."""
    from theralab.settings import get_settings

    return Path(get_settings().data_dir) / "jobs" / job_id


def _atomic_write_json(path: Path, payload: Any) -> None:
    tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(payload))
    os.replace(tmp, path)


def _marker(workdir: Path, index: int) -> Path:
    return workdir / "chunks" / f"{index:06d}.done.json"


def execute_chunk(kind_name: str, params: dict[str, Any], index: int, spec: dict[str, Any], workdir: str) -> dict:
    """Run one chunk in a worker: skip it when its marker exists, else run it and write the marker."""
    wd = Path(workdir)
    marker = _marker(wd, index)
    if marker.exists():
        return json.loads(marker.read_text())
    stats = load_kind(kind_name).run_chunk(params, index, spec, wd) or {}
    _atomic_write_json(marker, stats)
    return stats


def create_job(kind: str, params: dict[str, Any], owner: str = "") -> str:
    """Record a new queued job and return its id (the kind is checked now, not at run time)."""
    load_kind(kind)
    job_id = str(uuid.uuid4())
    with session_scope() as session:
        session.add(Job(id=job_id, kind=kind, params=params, owner=owner, status="queued"))
    return job_id


def get_job(job_id: str) -> dict[str, Any]:
    """The job as a dict; NotFoundError when unknown."""
    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFoundError(f"no job {job_id!r}", hint="list jobs with 'theralab jobs list'")
        return job.to_dict()


def get_owned_job(job_id: str, username: str, is_admin: bool = False) -> dict[str, Any]:
    """The job when ``username`` owns it (an admin may read any); ForbiddenError otherwise."""
    job = get_job(job_id)
    if job["owner"] != username and not is_admin:
        raise ForbiddenError("this job belongs to another user")
    return job


#: Owner of shared example jobs (the demo's finished screening run): every user may read them, none may change them.
SHARED_OWNER = "demo"


def get_readable_job(job_id: str, username: str, is_admin: bool = False) -> dict[str, Any]:
    """The job when ``username`` may read it: their own, a shared example (:data:`SHARED_OWNER`), or any for an admin.

    For read-only views (result pages, reports); changing a job (cancel, resume) still needs
    :func:`get_owned_job`.
    """
    job = get_job(job_id)
    if job["owner"] not in (username, SHARED_OWNER) and not is_admin:
        raise ForbiddenError("this job belongs to another user")
    return job


def list_jobs(owner: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Latest jobs first, optionally one owner's."""
    with session_scope() as session:
        query = select(Job).order_by(Job.created_at.desc()).limit(limit)
        if owner:
            query = query.where(Job.owner == owner)
        return [j.to_dict() for j in session.scalars(query)]


def cancel_job(job_id: str) -> None:
    """Ask a job to stop; finished chunks are kept, so it can be resumed later."""
    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFoundError(f"no job {job_id!r}")
        if job.status in TERMINAL:
            raise ConflictError(f"job {job_id} already {job.status}")
        job.cancel_requested = True
        if job.status == "queued":
            job.status = "cancelled"
            job.finished_at = utcnow()
        job.updated_at = utcnow()


def _update(job_id: str, **fields: Any) -> None:
    with session_scope() as session:
        job = session.get(Job, job_id)
        assert job is not None
        for key, value in fields.items():
            setattr(job, key, value)
        job.updated_at = utcnow()


def _cancel_requested(job_id: str) -> bool:
    with session_scope() as session:
        job = session.get(Job, job_id)
        return bool(job is not None and job.cancel_requested)


def run_job(
    job_id: str,
    executor: Executor | None = None,
    *,
    max_worker_losses: int = 3,
    on_progress: Callable[[int, int], None] | None = None,
    executor_spec: str | None = None,
) -> dict[str, Any]:
    """Run (or resume) a job to the end on ``executor`` and return its final state.

    Safe to call on a job that crashed, failed or was cancelled: finished chunks are skipped.
    A worker that dies costs a retry of the unfinished chunks only (``max_worker_losses`` times).
    Without ``executor``, one is built from ``executor_spec`` (``local`` or a Dask scheduler
    address; default from settings) *inside* the job's error handling: an unreachable or
    workerless cluster marks the job failed with a clear message (resumable), never leaves it
    queued or running.
    """
    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFoundError(f"no job {job_id!r}")
        if job.status == "succeeded":
            return job.to_dict()
        kind_name, params = job.kind, dict(job.params)
        job.status, job.cancel_requested, job.error = "running", False, None
        job.attempts += 1
        job.started_at = job.started_at or utcnow()
        job.updated_at = utcnow()

    workdir = job_dir(job_id)
    own_executor = executor is None
    try:
        (workdir / "chunks").mkdir(parents=True, exist_ok=True)
        # inside the try: a cluster that cannot be reached marks the job failed, never leaves it running
        executor = executor or make_executor(executor_spec)
        kind = load_kind(kind_name)
        plan_path = workdir / "plan.json"
        if plan_path.exists():
            plan = json.loads(plan_path.read_text())
        else:
            plan = kind.plan(params, workdir)
            _atomic_write_json(plan_path, plan)
        total = len(plan)
        done = {i for i in range(total) if _marker(workdir, i).exists()}
        _update(job_id, total_chunks=total, done_chunks=len(done), progress=len(done) / total if total else 1.0,
                message=f"{len(done)} of {total} chunks already done" if done else f"{total} chunks planned")
        losses = 0
        while len(done) < total:
            calls = [(i, (kind_name, params, i, plan[i], str(workdir))) for i in range(total) if i not in done]
            try:
                for index, _stats in executor.run_unordered(execute_chunk, calls, lambda: _cancel_requested(job_id)):
                    done.add(index)
                    _update(job_id, done_chunks=len(done), progress=len(done) / total,
                            message=f"chunk {index} finished")
                    if on_progress:
                        on_progress(len(done), total)
            except WorkerLost as exc:
                losses += 1
                done = {i for i in range(total) if _marker(workdir, i).exists()}
                if losses > max_worker_losses:
                    raise
                _update(job_id, message=f"{exc}; retrying {total - len(done)} unfinished chunks")
                continue
            if _cancel_requested(job_id) and len(done) < total:
                _update(job_id, status="cancelled", finished_at=utcnow(),
                        message=f"cancelled after {len(done)} of {total} chunks; resume to finish")
                return get_job(job_id)
        stats = [json.loads(_marker(workdir, i).read_text()) for i in range(total)]
        result = kind.finalize(params, workdir, stats)
        _update(job_id, status="succeeded", progress=1.0, result_location=result, finished_at=utcnow(),
                message="finished")
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the job, then re-raised
        message = str(exc) if isinstance(exc, TheralabError) else traceback.format_exception_only(exc)[-1].strip()
        _update(job_id, status="failed", error=f"{type(exc).__name__}: {exc}", finished_at=utcnow(), message=message)
        raise
    finally:
        if own_executor and executor is not None:
            executor.close()
    return get_job(job_id)


def start_in_background(job_id: str) -> threading.Thread:
    """Run a job on a daemon thread of this process (the API server uses this)."""

    def _target() -> None:
        try:
            run_job(job_id)
        except Exception:  # noqa: BLE001 - already recorded on the job row
            pass

    thread = threading.Thread(target=_target, name=f"job-{job_id}", daemon=True)
    thread.start()
    return thread


def recover_interrupted() -> list[str]:
    """Jobs left 'running' by a crashed server: mark them 'interrupted' so they can be resumed."""
    with session_scope() as session:
        jobs = list(session.scalars(select(Job).where(Job.status == "running")))
        for job in jobs:
            job.status = "interrupted"
            job.message = "the server stopped while this job ran; resume it to finish the remaining chunks"
        return [j.id for j in jobs]
