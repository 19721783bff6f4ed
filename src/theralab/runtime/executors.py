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


class WorkerLost(RuntimeError):
    """A worker process died (killed, out of memory) while running a chunk."""


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


class DaskExecutor(Executor):
    """A Dask distributed cluster, by scheduler address or an existing ``distributed.Client``.

    Dask itself reschedules a task whose worker dies (``distributed.scheduler.allowed-failures``);
    when it gives up, the runner sees :class:`WorkerLost` and retries the unfinished chunks.
    """

    name = "dask"

    def __init__(self, address: str | None = None, client: Any = None) -> None:
        from distributed import Client

        self._own = client is None
        self.client = client if client is not None else Client(address)

    def run_unordered(
        self, fn: Callable[..., Any], calls: Sequence[tuple[int, tuple[Any, ...]]], should_stop: Callable[[], bool]
    ) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        futures = {}
        for index, args in calls:
            fut = self.client.submit(fn, *args, pure=False, key=f"chunk-{index}-{os.urandom(4).hex()}")
            futures[fut] = index
        iterator = as_completed(list(futures))
        for fut in iterator:
            index = futures[fut]
            try:
                yield index, fut.result()
            except KilledWorker as exc:
                for other in futures:
                    other.cancel()
                raise WorkerLost(f"dask gave up on chunk {index}: its workers kept dying") from exc
            if should_stop():
                for other in futures:
                    other.cancel()
                return

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
