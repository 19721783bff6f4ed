"""Load test on loopback: concurrent API users and vital-sign devices, bounded in count and time.

Starts ``uvicorn`` with the full app on 127.0.0.1 (a free port, a fresh data directory), creates
users and devices, then runs ``--users`` threads for ``--seconds`` seconds: half read
(``GET /v1/auth/me``, ``GET /v1/trials``), half are devices posting one reading per request with a
unique timestamp. At the end every reading the server acknowledged as accepted is counted in the
database: **lost writes = acknowledged - stored** (goal 0). Prints requests/s, p50/p99 latency and
errors per kind of request. Nothing leaves the machine.

Example::

    PYTHONPATH=src python benchmarks/load.py --users 16 --seconds 20
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=8, help="concurrent clients (half readers, half devices)")
    parser.add_argument("--seconds", type=float, default=15.0, help="duration of the load (max 120)")
    args = parser.parse_args()
    seconds = min(args.seconds, 120.0)
    data = Path(tempfile.mkdtemp(prefix="theralab-load-"))
    env = {**os.environ, "THERALAB_DATA_DIR": str(data), "OMP_NUM_THREADS": "1"}
    env.pop("THERALAB_DATABASE_URL", None)
    setup = (
        "from theralab.runtime import migrate; migrate.upgrade()\n"
        "from theralab.privacy.auth import create_user\n"
        "from theralab.runtime.db import session_scope\n"
        "from theralab.monitoring.streams import register_device\n"
        "from theralab.ehr.fhir import import_resources\n"
        "import json\n"
        "tokens = {}\n"
        "with session_scope() as s:\n"
        "    create_user(s, 'loader', 'load-test-password', ['clinician'])\n"
        f"    import_resources([{{'resourceType': 'Patient', 'id': f'p-{{i}}'}} for i in range({args.users})], s)\n"
        f"    for i in range({args.users}):\n"
        "        tokens[f'dev-{i}'] = register_device(s, f'dev-{i}', f'p-{i}')\n"
        "print(json.dumps(tokens))\n"
    )
    import json

    tokens = json.loads(subprocess.run([sys.executable, "-c", setup], env=env, check=True, capture_output=True,
                                       text=True).stdout.strip().splitlines()[-1])
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "theralab.app:create_app", "--factory",
                               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(base + "/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        login = httpx.post(base + "/v1/auth/token", data={"username": "loader", "password": "load-test-password"})
        bearer = {"Authorization": "Bearer " + login.json()["access_token"]}
        stop = time.monotonic() + seconds
        lock = threading.Lock()
        latencies: dict[str, list[float]] = {"read": [], "ingest": []}
        errors: dict[str, int] = {"read": 0, "ingest": 0}
        acknowledged = [0]
        start_at = datetime.now(UTC) - timedelta(hours=1)

        def reader() -> None:
            with httpx.Client(base_url=base, headers=bearer, timeout=30) as client:
                i = 0
                while time.monotonic() < stop:
                    url = "/v1/auth/me" if i % 2 else "/v1/trials"
                    t0 = time.perf_counter()
                    ok = client.get(url).status_code == 200
                    with lock:
                        latencies["read"].append(time.perf_counter() - t0)
                        errors["read"] += not ok
                    i += 1

        def device(n: int) -> None:
            dev = f"dev-{n}"
            headers = {"X-Device-Id": dev, "X-Device-Token": tokens[dev]}
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                i = 0
                while time.monotonic() < stop:
                    at = (start_at + timedelta(seconds=i)).isoformat()
                    body = {"device_id": dev, "readings": [{"code": "8867-4", "value": 60 + i % 40, "unit": "/min",
                                                            "at": at}]}
                    t0 = time.perf_counter()
                    resp = client.post("/v1/observations", json=body)
                    with lock:
                        latencies["ingest"].append(time.perf_counter() - t0)
                        if resp.status_code == 200:
                            acknowledged[0] += resp.json().get("accepted", 0)
                        else:
                            errors["ingest"] += 1
                    i += 1

        threads = [threading.Thread(target=reader if n % 2 else device, args=() if n % 2 else (n,))
                   for n in range(args.users)]
        t_start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t_start
    finally:
        server.terminate()
        server.wait(timeout=30)
    count = ("from sqlalchemy import func, select\nfrom theralab.runtime.db import session_scope\n"
             "from theralab.ehr.tables import ObservationRow as O\n"
             "with session_scope() as s: print(s.scalar(select(func.count()).select_from(O)"
             ".where(O.source.like('stream:%'))))")
    stored = int(subprocess.run([sys.executable, "-c", count], env=env, check=True, capture_output=True,
                                text=True).stdout.strip().splitlines()[-1])
    print(f"{args.users} clients for {elapsed:.1f} s on loopback (SQLite, one uvicorn worker)")
    for kind, values in latencies.items():
        if values:
            p99 = statistics.quantiles(values, n=100)[98] if len(values) >= 100 else max(values)
            print(f"  {kind:7s} {len(values) / elapsed:7.1f} req/s   p50 {statistics.median(values) * 1000:6.1f} ms"
                  f"   p99 {p99 * 1000:7.1f} ms   errors {errors[kind]}")
    print(f"  readings acknowledged {acknowledged[0]}, stored {stored}, lost writes {acknowledged[0] - stored}")


if __name__ == "__main__":
    main()
