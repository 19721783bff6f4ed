"""Workers die with their parent: ``kill -9`` of a process running a local pool leaves nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

SCRIPT = r"""
import multiprocessing.resource_tracker as rt, sys, time
from theralab.runtime.executors import LocalExecutor

ex = LocalExecutor(2)
pool = ex._get_pool()
futures = [pool.submit(time.sleep, 60) for _ in range(2)]
while len(pool._processes) < 2 or not all(p.pid for p in pool._processes.values()):
    time.sleep(0.05)
time.sleep(1.0)
print(" ".join(str(p) for p in pool._processes), rt._resource_tracker._pid, flush=True)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purpose (its parent, pytest or init, reaps it)
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_workers_and_resource_tracker_die_with_their_parent(sig):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline().split()
    workers, tracker = [int(p) for p in line[:-1]], line[-1]
    assert len(workers) == 2 and all(_alive(p) for p in workers)
    proc.send_signal(sig)
    proc.wait(10)
    deadline = time.time() + 20
    others = workers + ([int(tracker)] if tracker != "None" else [])
    while time.time() < deadline and any(_alive(p) for p in others):
        time.sleep(0.2)
    assert not [p for p in others if _alive(p)], "processes outlived their parent"
