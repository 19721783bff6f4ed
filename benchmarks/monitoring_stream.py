"""Stream throughput and reading-to-alert latency through HTTP and MQTT, on this machine.

What it measures (everything real: a uvicorn server in a subprocess, the local Mosquitto broker,
SQLite or the database given by --database-url, NEWS2 scoring and alerting on every batch):

* HTTP: observations/second sustained by ``--clients`` concurrent devices POSTing batches of
  ``--batch`` readings to ``/v1/observations``; p50/p99 request latency of batches whose vitals
  raise a NEWS2 alert inside the request.
* MQTT: observations/second from publish to stored, and p50/p99 latency from publish to the alert
  row (same clock, same machine).

Each device may burst 2,000 readings and then 50/s (flood control); keep batches x batch under the
burst to measure the server rather than the limiter.

Usage: python benchmarks/monitoring_stream.py [--devices 100] [--batches 20] [--batch 50]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

VITALS = [("9279-1", 26, "/min"), ("2708-6", 90, "%"), ("8480-6", 88, "mm[Hg]"), ("8867-4", 135, "/min"),
          ("8310-5", 39.4, "Cel")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _batch(minute0: datetime, n: int, offset: int) -> list[dict]:
    out = []
    for i in range(n):
        code, value, unit = VITALS[i % len(VITALS)]
        at = minute0 - timedelta(seconds=offset * n + i)
        out.append({"code": code, "value": value, "unit": unit, "at": at.isoformat().replace("+00:00", "Z")})
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--batches", type=int, default=30, help="batches per device")
    parser.add_argument("--batch", type=int, default=50, help="readings per batch")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="tl-stream-"))
    env = {**os.environ, "THERALAB_DATA_DIR": str(data_dir)}
    if args.database_url:
        env["THERALAB_DATABASE_URL"] = args.database_url
    os.environ.update(env)
    from theralab.settings import reset_settings

    reset_settings()
    from theralab.monitoring.streams.ingest import register_device
    from theralab.runtime import migrate
    from theralab.runtime.db import session_scope

    migrate.upgrade()
    tokens = {}
    with session_scope() as session:
        for d in range(args.devices):
            tokens[f"http-{d}"] = register_device(session, f"http-{d}", f"hp-{d}")
            tokens[f"mqtt-{d}"] = register_device(session, f"mqtt-{d}", f"mp-{d}")

    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "theralab.app:create_app", "--factory",
                               "--port", str(port), "--log-level", "warning"], env=env)
    try:
        import httpx

        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        now = datetime.now(UTC)
        latencies: list[float] = []

        def device_loop(d: int) -> int:
            sent = 0
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60,
                              headers={"X-Device-Id": f"http-{d}", "X-Device-Token": tokens[f"http-{d}"]}) as c:
                for b in range(args.batches):
                    body = {"device_id": f"http-{d}", "readings": _batch(now, args.batch, b)}
                    t0 = time.perf_counter()
                    r = c.post("/v1/observations", json=body)
                    while r.status_code == 429:  # per-device flood control: back off as a real device must
                        time.sleep(float(r.headers.get("Retry-After", "1")))
                        r = c.post("/v1/observations", json=body)
                    latencies.append(time.perf_counter() - t0)
                    r.raise_for_status()
                    sent += r.json()["accepted"]
            return sent

        t0 = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            accepted = sum(pool.map(device_loop, range(args.devices)))
        http_elapsed = time.perf_counter() - t0
        print(f"HTTP: {accepted} readings stored in {http_elapsed:.1f} s = {accepted / http_elapsed:.0f} obs/s "
              f"(batches of {args.batch}, {args.devices} devices, NEWS2 + alerts on every batch)")
        print(f"HTTP batch latency incl. scoring/alerting: p50 {pct(latencies, .5) * 1000:.1f} ms, "
              f"p99 {pct(latencies, .99) * 1000:.1f} ms")
    finally:
        server.terminate()
        server.wait(10)

    # MQTT
    import paho.mqtt.client as mqtt
    from sqlalchemy import func, select

    from theralab.monitoring.streams.mqtt import MqttIngestService
    from theralab.monitoring.streams.tables import VitalReading
    from theralab.runtime.alerts import Alert

    service = MqttIngestService(topic="theralab-bench/+/observations").start()
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    pub.connect("127.0.0.1", 1883)
    pub.loop_start()
    sent_at: dict[str, float] = {}
    now = datetime.now(UTC)
    with session_scope() as session:
        before = session.scalar(select(func.count()).select_from(VitalReading).where(VitalReading.source == "mqtt"))
    t0 = time.perf_counter()
    total = 0
    for b in range(args.batches):
        for d in range(args.devices):
            body = {"token": tokens[f"mqtt-{d}"], "device_id": f"mqtt-{d}", "readings": _batch(now, args.batch, b)}
            if b == 0:
                sent_at[f"mp-{d}"] = time.time()
            pub.publish(f"theralab-bench/mqtt-{d}/observations", json.dumps(body), qos=1)
            total += args.batch
    deadline = time.time() + 600
    while time.time() < deadline:
        with session_scope() as session:
            stored = session.scalar(select(func.count()).select_from(VitalReading).where(
                VitalReading.source == "mqtt")) - before
        if stored >= total and service.queue.empty():
            break
        time.sleep(0.2)
    mqtt_elapsed = time.perf_counter() - t0
    service.stop()
    pub.loop_stop()
    with session_scope() as session:
        alerts = {a.subject: a.first_at.timestamp() for a in session.scalars(select(Alert))}
    lat = [alerts[p] - t for p, t in sent_at.items() if p in alerts]
    print(f"MQTT: {stored} readings stored in {mqtt_elapsed:.1f} s = {stored / mqtt_elapsed:.0f} obs/s; "
          f"dropped {service.stats.dropped}, rejected {service.stats.rejected}")
    if lat:
        print(f"MQTT publish-to-alert latency: p50 {pct(lat, .5) * 1000:.0f} ms, p99 {pct(lat, .99) * 1000:.0f} ms "
              f"({len(lat)} alerts); median {statistics.median(lat) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
