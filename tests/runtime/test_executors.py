"""LocalExecutor: a pool that breaks at any moment becomes WorkerLost, never a raw pool error."""

from __future__ import annotations

from concurrent.futures.process import BrokenProcessPool

import pytest

from theralab.runtime.executors import DaskExecutor, LocalExecutor, WorkerLost


class _PoolBrokenOnSubmit:
    """Stands in for a ProcessPoolExecutor whose worker died before the next submit."""

    def submit(self, *args, **kwargs):
        raise BrokenProcessPool("A child process terminated abruptly")

    def shutdown(self, wait=True, cancel_futures=False):
        self.shut = True


def test_pool_broken_at_submit_becomes_worker_lost_and_the_pool_is_replaced():
    executor = LocalExecutor(1)
    broken = _PoolBrokenOnSubmit()
    executor._pool = broken
    with pytest.raises(WorkerLost, match="before chunk 3 was submitted"):
        list(executor.run_unordered(print, [(3, ("x",)), (4, ("y",))], lambda: False))
    assert executor._pool is None and broken.shut  # the next run starts a fresh pool


def test_a_fresh_pool_runs_the_calls_after_a_loss():
    executor = LocalExecutor(1)
    executor._pool = _PoolBrokenOnSubmit()
    with pytest.raises(WorkerLost):
        list(executor.run_unordered(abs, [(0, (-1,))], lambda: False))
    try:
        assert sorted(executor.run_unordered(abs, [(0, (-1,)), (1, (-2,))], lambda: False)) == [(0, 1), (1, 2)]
    finally:
        executor.close()


# ---- Dask: fail cleanly, within a stated timeout, and leave the job failed (resumable) ---------

def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def test_unreachable_scheduler_fails_the_job_quickly_and_it_resumes_locally(tl_env, monkeypatch):
    import time

    pytest.importorskip("distributed")
    from theralab.runtime import executors, jobs
    from theralab.runtime.executors import ExecutorUnavailable

    monkeypatch.setattr(executors, "DASK_CONNECT_TIMEOUT", 2.0)  # the default (10 s) is for real networks

    job_id = jobs.create_job("selftest", {"n": 20, "chunk_size": 5})
    address = f"tcp://127.0.0.1:{_closed_port()}"
    started = time.monotonic()
    with pytest.raises(ExecutorUnavailable, match="did not answer within"):
        DaskExecutor(address, connect_timeout=2)
    assert time.monotonic() - started < 8
    with pytest.raises(ExecutorUnavailable):
        jobs.run_job(job_id, executor_spec=address)
    job = jobs.get_job(job_id)
    assert job["status"] == "failed" and "Dask scheduler" in job["message"] and "resumed" in job["message"]
    done = jobs.run_job(job_id, LocalExecutor(1))  # resumable once a cluster is there
    assert done["status"] == "succeeded"


def test_scheduler_without_workers_fails_within_the_worker_timeout(tl_env):
    import time

    distributed = pytest.importorskip("distributed")
    from theralab.runtime import jobs
    from theralab.runtime.executors import ExecutorUnavailable

    job_id = jobs.create_job("selftest", {"n": 20, "chunk_size": 5})
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            started = time.monotonic()
            with pytest.raises(ExecutorUnavailable, match="has no workers"):
                jobs.run_job(job_id, DaskExecutor(client=client, worker_timeout=1.5))
            assert time.monotonic() - started < 6
    job = jobs.get_job(job_id)
    assert job["status"] == "failed" and "no workers" in job["message"]


def test_all_workers_gone_mid_job_fails_instead_of_hanging(tl_env, tmp_path):
    import threading
    import time

    distributed = pytest.importorskip("distributed")
    from theralab.runtime import jobs
    from theralab.runtime.executors import ExecutorUnavailable

    job_id = jobs.create_job("selftest", {"n": 40, "chunk_size": 2, "delay": 0.3})
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            def retire_after_first_chunk() -> None:
                while jobs.get_job(job_id)["done_chunks"] < 1:
                    time.sleep(0.05)
                cluster.scale(0)  # every worker leaves while chunks are pending

            threading.Thread(target=retire_after_first_chunk, daemon=True).start()
            started = time.monotonic()
            with pytest.raises(ExecutorUnavailable, match="has no workers"):
                jobs.run_job(job_id, DaskExecutor(client=client, worker_timeout=1.5))
            assert time.monotonic() - started < 20
    job = jobs.get_job(job_id)
    assert job["status"] == "failed" and 1 <= job["done_chunks"] < 20  # finished chunks kept for a resume
