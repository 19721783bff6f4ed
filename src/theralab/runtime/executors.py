"""Executors run a job's chunks: local worker processes or a Dask distributed cluster.

Both expose the same tiny interface, :meth:`Executor.run_unordered`, which yields
``(index, result)`` as chunks finish. A worker that dies is reported as :class:`WorkerLost`;
the job runner then retries the unfinished chunks, and because every finished chunk is a file on
disk, nothing is redone or lost.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from theralab.errors import TheralabError


class WorkerLost(RuntimeError):
    """A worker process died (killed, out of memory) while running a chunk."""


class ExecutorUnavailable(TheralabError):
    """The cluster cannot run work: scheduler unreachable, or no worker within the stated timeout.

    Raised within ``connect_timeout`` / ``worker_timeout`` seconds instead of hanging; the job
    runner marks the job failed (finished chunks are kept, so it resumes once the cluster is back).
    """

    status_code = 503


class Executor:
    """Runs ``fn(*args)`` for each argument tuple and yields ``(index, result)`` as they finish."""

    name = "base"

    def run_unordered(
        self, fn: Callable[..., Any], calls: Sequence[tuple[int, tuple[Any, ...]]], should_stop: Callable[[], bool]
    ) -> Iterator[tuple[int, Any]]:
        raise NotImplementedError

    def close(self) -> None:
        """Release processes or cluster connections."""


def _watch_parent(parent: int, interval: float = 0.5) -> None:
    """Worker initializer: leave as soon as the process that made the pool is gone.

    A ``kill -9`` (or any signal without clean-up) of ``theralab screen run`` would otherwise leave
    its spawned workers waiting on their queue for ever, and with them the multiprocessing resource
    tracker (it exits only when every process holding its pipe has). A daemon thread compares the
    parent's pid with ``os.getppid()`` (the orphan is re-parented) and calls ``os._exit``. Polling,
    not ``PR_SET_PDEATHSIG``: that signal fires when the *thread* that spawned the worker ends,
    and a server starts pools from short-lived request threads.
    """
    import threading
    import time

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(70)
            time.sleep(interval)

    threading.Thread(target=watch, name="theralab-parent-watch", daemon=True).start()


class LocalExecutor(Executor):
    """Local worker processes (``spawn`` start method: safe inside a threaded server) that end
    with the process that started them, whatever signal ended it (see :func:`_watch_parent`)."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_watch_parent, initargs=(os.getpid(),))
        return self._pool

    def run_unordered(
        self, fn: Callable[..., Any], calls: Sequence[tuple[int, tuple[Any, ...]]], should_stop: Callable[[], bool]
    ) -> Iterator[tuple[int, Any]]:
        pool = self._get_pool()
        pending: dict[Future[Any], int] = {}
        queue = list(calls)
        # Keep at most 2 chunks per worker in flight so cancellation is prompt.
        try:
            while queue or pending:
                while queue and len(pending) < 2 * self.workers:
                    index, args = queue[0]
                    try:
                        pending[pool.submit(fn, *args)] = index
                    except BrokenProcessPool as exc:
                        # A worker died after the last wait() and before this submit: the pool
                        # refuses new work; the runner retries every unfinished chunk.
                        raise WorkerLost(f"a worker process died before chunk {index} was submitted") from exc
                    queue.pop(0)
                done, _ = wait(list(pending), timeout=0.5, return_when=FIRST_COMPLETED)
                for fut in done:
                    index = pending.pop(fut)
                    try:
                        yield index, fut.result()
                    except BrokenProcessPool as exc:
                        raise WorkerLost(f"a worker process died while running chunk {index}") from exc
                if should_stop():
                    for fut in pending:
                        fut.cancel()
                    return
        except WorkerLost:
            self._reset()
            raise

    def _reset(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


DASK_CONNECT_TIMEOUT = 10.0  # seconds to reach the scheduler before ExecutorUnavailable
DASK_WORKER_TIMEOUT = 30.0  # seconds to wait for a first (or, mid-job, any) worker


class DaskExecutor(Executor):
    """A Dask distributed cluster, by scheduler address or an existing ``distributed.Client``.

    Dask itself reschedules a task whose worker dies (``distributed.scheduler.allowed-failures``);
    when it gives up, the runner sees :class:`WorkerLost` and retries the unfinished chunks.

    Failing cleanly: an unreachable scheduler raises :class:`ExecutorUnavailable` after
    ``connect_timeout`` seconds (default 10), a scheduler with no worker after ``worker_timeout``
    seconds (default 30) - both at start and whenever every worker is gone while chunks are
    pending - rather than a raw traceback after 30 s or an endless wait.
    """

    name = "dask"

    def __init__(self, address: str | None = None, client: Any = None, *, connect_timeout: float | None = None,
                 worker_timeout: float | None = None) -> None:
        from distributed import Client

        connect_timeout = DASK_CONNECT_TIMEOUT if connect_timeout is None else connect_timeout
        worker_timeout = DASK_WORKER_TIMEOUT if worker_timeout is None else worker_timeout

        self.address = address or (getattr(client, "scheduler", None) and client.scheduler.address) or "?"
        self.connect_timeout, self.worker_timeout = connect_timeout, worker_timeout
        self._own = client is None
        if client is None:
            try:
                client = Client(address, timeout=connect_timeout, set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise ExecutorUnavailable(
                    f"Dask scheduler {address} did not answer within {connect_timeout:g} s "
                    f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})",
                    where=str(address),
                    hint="start the scheduler (dask scheduler) or set THERALAB_EXECUTOR=local; "
                         "the job keeps its finished chunks and can be resumed",
                ) from None
        self.client = client

    def _workers(self) -> int:
        try:
            return len(self.client.scheduler_info(n_workers=-1).get("workers", {}))
        except TypeError:  # older distributed without n_workers
            return len(self.client.scheduler_info().get("workers", {}))

    def _require_workers(self) -> None:
        """Wait up to ``worker_timeout`` for at least one worker; ExecutorUnavailable otherwise."""
        import time

        deadline = time.monotonic() + self.worker_timeout
        while self._workers() == 0:
            if time.monotonic() >= deadline:
                raise ExecutorUnavailable(
                    f"Dask scheduler {self.address} has no workers (waited {self.worker_timeout:g} s)",
                    where=str(self.address),
                    hint="start workers (dask worker <scheduler address>) or set THERALAB_EXECUTOR=local; "
                         "the job keeps its finished chunks and can be resumed")
            time.sleep(min(0.2, self.worker_timeout))

    def run_unordered(
        self, fn: Callable[..., Any], calls: Sequence[tuple[int, tuple[Any, ...]]], should_stop: Callable[[], bool]
    ) -> Iterator[tuple[int, Any]]:
        from distributed import wait as dask_wait
        from distributed.scheduler import KilledWorker

        self._require_workers()
        futures = {}
        for index, args in calls:
            fut = self.client.submit(fn, *args, pure=False, key=f"chunk-{index}-{os.urandom(4).hex()}")
            futures[fut] = index
        pending = set(futures)
        try:
            while pending:
                try:
                    done, not_done = dask_wait(list(pending), timeout=0.5, return_when="FIRST_COMPLETED")
                except TimeoutError:  # distributed.wait raises when nothing finished in time
                    done, not_done = set(), pending
                pending = set(not_done)
                for fut in done:
                    index = futures[fut]
                    try:
                        yield index, fut.result()
                    except KilledWorker as exc:
                        raise WorkerLost(f"dask gave up on chunk {index}: its workers kept dying") from exc
                if should_stop():
                    return
                if not done and pending and self._workers() == 0:
                    self._require_workers()  # every worker is gone: wait for one, or fail clearly
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
        finally:
            if should_stop():
                for fut in futures:
                    fut.cancel()

    def close(self) -> None:
        if self._own:
            self.client.close()


def make_executor(spec: str | None = None, workers: int | None = None) -> Executor:
    """Build the executor named by settings: ``local`` or a Dask scheduler address."""
    from theralab.settings import get_settings

    settings = get_settings()
    spec = spec or settings.executor
    if spec == "local":
        return LocalExecutor(workers or settings.workers)
    return DaskExecutor(spec)
