"""Jobs: progress, cancel, resume, and a worker killed mid-job, on both executors.

The built-in ``selftest`` kind squares 0..n-1 in chunks; ``crash_once_dir`` makes a worker process
exit hard (``os._exit``) the first time a chosen chunk runs, and ``attempt_log_dir`` leaves one
file per chunk execution, so the tests can prove that finished chunks are never redone and that the
result holds every row exactly once.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from theralab.errors import ConflictError, InputError, NotFoundError
from theralab.runtime import jobs
from theralab.runtime.executors import DaskExecutor, LocalExecutor


def _result_values(job: dict) -> list[int]:
    table = pq.read_table(job["result_location"])
    assert table.column("square").to_pylist() == [v * v for v in table.column("value").to_pylist()]
    return sorted(table.column("value").to_pylist())


def _runs_per_chunk(log_dir: Path) -> dict[int, int]:
    counts: dict[int, int] = {}
    for f in log_dir.iterdir():
        index = int(f.name.split("-")[1])
        counts[index] = counts.get(index, 0) + 1
    return counts


def test_selftest_job_runs_and_reports_progress(tl_env):
    job_id = jobs.create_job("selftest", {"n": 95, "chunk_size": 10}, owner="t")
    seen = []
    job = jobs.run_job(job_id, LocalExecutor(2), on_progress=lambda d, t: seen.append((d, t)))
    assert job["status"] == "succeeded"
    assert job["total_chunks"] == 10 and job["done_chunks"] == 10 and job["progress"] == 1.0
    assert _result_values(job) == list(range(95))
    assert seen[-1] == (10, 10) and len(seen) == 10


@pytest.fixture
def dirs(tmp_path):
    crash, log = tmp_path / "crash", tmp_path / "log"
    crash.mkdir()
    log.mkdir()
    return crash, log


def test_local_worker_killed_mid_job_finishes_without_duplicates(tl_env, dirs):
    crash, log = dirs
    params = {"n": 200, "chunk_size": 10, "crash_once_dir": str(crash), "crash_chunk": 7,
              "attempt_log_dir": str(log), "delay": 0.02}
    job_id = jobs.create_job("selftest", params)
    job = jobs.run_job(job_id, LocalExecutor(2))
    assert (crash / "crashed-7").exists(), "the fault was not injected"
    assert job["status"] == "succeeded"
    assert _result_values(job) == list(range(200))  # no duplicated, no missing rows
    runs = _runs_per_chunk(log)
    assert set(runs) == set(range(20))
    # chunks that had finished before the crash ran exactly once
    assert sum(1 for c in runs.values() if c == 1) >= 10


def test_dask_worker_killed_mid_job_finishes_without_duplicates(tl_env, dirs):
    distributed = pytest.importorskip("distributed")
    crash, log = dirs
    params = {"n": 120, "chunk_size": 10, "crash_once_dir": str(crash), "crash_chunk": 5,
              "attempt_log_dir": str(log), "delay": 0.02}
    job_id = jobs.create_job("selftest", params)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            job = jobs.run_job(job_id, DaskExecutor(client=client))
    assert (crash / "crashed-5").exists(), "the fault was not injected"
    assert job["status"] == "succeeded"
    assert _result_values(job) == list(range(120))
    assert set(_runs_per_chunk(log)) == set(range(12))


def test_interrupted_job_resumes_without_redoing_finished_chunks(tl_env, dirs):
    _crash, log = dirs
    params = {"n": 60, "chunk_size": 10, "attempt_log_dir": str(log)}
    job_id = jobs.create_job("selftest", params)
    # A previous run finished chunks 0-2 and then the server died.
    workdir = jobs.job_dir(job_id)
    (workdir / "chunks").mkdir(parents=True)
    kind = jobs.load_kind("selftest")
    jobs._atomic_write_json(workdir / "plan.json", kind.plan(params, workdir))
    for index in range(3):
        jobs.execute_chunk("selftest", params, index, {"start": index * 10, "stop": index * 10 + 10}, str(workdir))
    jobs._update(job_id, status="running")
    assert jobs.recover_interrupted() == [job_id]
    assert jobs.get_job(job_id)["status"] == "interrupted"

    job = jobs.run_job(job_id, LocalExecutor(1))
    assert job["status"] == "succeeded" and job["attempts"] == 1
    assert _result_values(job) == list(range(60))
    assert _runs_per_chunk(log) == {i: 1 for i in range(6)}  # nothing ran twice


def test_cancel_then_resume(tl_env, dirs):
    _crash, log = dirs
    params = {"n": 40, "chunk_size": 10, "attempt_log_dir": str(log)}
    job_id = jobs.create_job("selftest", params)
    calls = []

    def cancel_after_first(done: int, total: int) -> None:
        calls.append(done)
        if done == 1:
            jobs.cancel_job(job_id)

    job = jobs.run_job(job_id, LocalExecutor(1), on_progress=cancel_after_first)
    assert job["status"] == "cancelled"
    assert 1 <= job["done_chunks"] < 4
    job = jobs.run_job(job_id, LocalExecutor(1))
    assert job["status"] == "succeeded"
    assert _result_values(job) == list(range(40))
    assert all(c == 1 for c in _runs_per_chunk(log).values())
    with pytest.raises(ConflictError):
        jobs.cancel_job(job_id)


def test_bad_job_requests(tl_env):
    with pytest.raises(InputError, match="unknown job kind"):
        jobs.create_job("no.such.kind", {})
    with pytest.raises(NotFoundError):
        jobs.get_job("missing")
    job_id = jobs.create_job("selftest", {"n": 10, "chunk_size": 0})
    with pytest.raises(InputError):
        jobs.run_job(job_id, LocalExecutor(1))
    failed = jobs.get_job(job_id)
    assert failed["status"] == "failed" and "chunk_size" in failed["error"]


def test_shared_example_jobs_are_readable_by_all_but_owned_by_none(tl_env):
    from theralab.errors import ForbiddenError

    mine, shared = jobs.create_job("selftest", {"n": 1}, owner="ann"), jobs.create_job("selftest", {"n": 1},
                                                                                        owner=jobs.SHARED_OWNER)
    assert jobs.get_readable_job(shared, "bob")["owner"] == jobs.SHARED_OWNER  # the demo's example run
    assert jobs.get_readable_job(mine, "ann")["id"] == mine and jobs.get_readable_job(mine, "root", True)
    with pytest.raises(ForbiddenError):
        jobs.get_readable_job(mine, "bob")
    with pytest.raises(ForbiddenError):  # reading is not owning: no cancel or resume of an example
        jobs.get_owned_job(shared, "bob")
