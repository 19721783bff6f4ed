"""LocalExecutor: a pool that breaks at any moment becomes WorkerLost, never a raw pool error."""

from __future__ import annotations

from concurrent.futures.process import BrokenProcessPool

import pytest

from theralab.runtime.executors import LocalExecutor, WorkerLost


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
