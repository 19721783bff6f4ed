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

* ``--mode sse``: latency from sending a reading (HTTP POST, or MQTT publish ingested by a
  separate ``theralab monitor serve`` process) to the alert arriving on a live server-sent-events
  client of ``/v1/alerts/stream``, one alert at a time (p50/p99/max). Across processes the push is
  PostgreSQL LISTEN/NOTIFY (give ``--database-url postgresql://...``); on SQLite the MQTT path falls
  back to the stream's periodic check.

Usage: python benchmarks/monitoring_stream.py [--devices 100] [--batches 20] [--batch 50]
       python benchmarks/monitoring_stream.py --mode sse [--alerts 200] [--database-url postgresql://...]
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


LATE = False  # --late: every batch older than the one before (the worst case for rescoring)


def _batch(minute0: datetime, n: int, offset: int) -> list[dict]:
    """Batch ``offset`` of ``n`` readings.

    As a monitor sends them: the five NEWS2 vitals of one time point share its time, and time moves
    forward from ``minute0`` (one time point a second). With ``--late`` each reading has its own
    second and every batch is older than the last, so every batch rescores the hour after it.
    """
    out = []
    for i in range(n):
        code, value, unit = VITALS[i % len(VITALS)]
        if LATE:
            at = minute0 - timedelta(seconds=offset * n + i)
        else:
            at = minute0 + timedelta(seconds=(offset * n + i) // len(VITALS))
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
    parser.add_argument("--mode", choices=["throughput", "sse"], default="throughput",
                        help="throughput: the figures above; sse: reading -> alert on a live /v1/alerts/stream client")
    parser.add_argument("--alerts", type=int, default=200, help="sse mode: alerts to time per transport")
    parser.add_argument("--mqtt-port", type=int, default=1883, help="the broker's port on 127.0.0.1")
    parser.add_argument("--late", action="store_true",
                        help="throughput: each batch older than the last, one reading a second (rescoring worst case)")
    args = parser.parse_args()
    global LATE
    LATE = args.late

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
    if args.mode == "sse":
        return sse_latency(args, env)
    tokens = {}
    _patients([f"{p}-{d}" for d in range(args.devices) for p in ("hp", "mp")])
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
        now = _start(args)
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

    from theralab.ehr.tables import ObservationRow
    from theralab.monitoring.streams.mqtt import MqttIngestService
    from theralab.runtime.alerts import Alert

    service = MqttIngestService(port=args.mqtt_port, topic="theralab-bench/+/observations",
                                client_id=f"bench-{time.time_ns()}",
                                clean_session=True).start()
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    pub.connect("127.0.0.1", args.mqtt_port)
    pub.loop_start()
    sent_at: dict[str, float] = {}
    now = _start(args)
    with session_scope() as session:
        before = session.scalar(select(func.count()).select_from(ObservationRow)
                                .where(ObservationRow.source == "stream:mqtt"))
    t0 = time.perf_counter()
    total = 0
    for b in range(args.batches):
        for d in range(args.devices):
            body = {"token": tokens[f"mqtt-{d}"], "device_id": f"mqtt-{d}", "readings": _batch(now, args.batch, b)}
            if b == 0:
                sent_at[f"mp-{d}"] = time.time()
            pub.publish(f"theralab-bench/mqtt-{d}/observations", json.dumps(body), qos=1)
            total += args.batch
    deadline, stalled_since, last = time.time() + 600, time.time(), -1
    while time.time() < deadline:
        with session_scope() as session:
            stored = session.scalar(select(func.count()).select_from(ObservationRow).where(
                ObservationRow.source == "stream:mqtt")) - before
        if stored >= total and service.queue.empty():
            break
        if stored != last:
            stalled_since, last = time.time(), stored
        elif time.time() - stalled_since > 20:  # nothing more arrives: the broker dropped the rest
            print(f"MQTT: {total - stored} readings never arrived: the broker dropped messages (Mosquitto keeps "
                  "at most max_queued_messages, 1000 by default, behind a client's in-flight window; "
                  "see /var/log/mosquitto/mosquitto.log 'Outgoing messages are being dropped')")
            break
        time.sleep(0.2)
    mqtt_elapsed = time.perf_counter() - t0
    service.stop()
    pub.loop_stop()
    with session_scope() as session:
        alerts = {a.subject: a.first_at.timestamp() for a in session.scalars(select(Alert))}
    lat = [alerts[p] - t for p, t in sent_at.items() if p in alerts]
    print(f"MQTT: {stored} readings stored in {mqtt_elapsed:.1f} s = {stored / mqtt_elapsed:.0f} obs/s; "
          f"rejected {service.stats.rejected}, restarts {service.stats.restarts}")
    if lat:
        print(f"MQTT publish-to-alert latency: p50 {pct(lat, .5) * 1000:.0f} ms, p99 {pct(lat, .99) * 1000:.0f} ms "
              f"({len(lat)} alerts); median {statistics.median(lat) * 1000:.0f} ms")


def _start(args: argparse.Namespace) -> datetime:
    """Where the readings' clock starts: now, or far enough back that forward batches end before now."""
    now = datetime.now(UTC)
    return now if LATE else now - timedelta(seconds=args.batches * args.batch // len(VITALS) + 60)


def _patients(ids: list[str]) -> None:
    from theralab.ehr.fhir import import_resources
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        import_resources([{"resourceType": "Patient", "id": i} for i in ids], session)


def _wait_http(port: int) -> None:
    import httpx

    for _ in range(150):
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def sse_latency(args: argparse.Namespace, env: dict[str, str]) -> None:
    """Reading -> alert on a live SSE client, for HTTP and for MQTT, one alert at a time."""
    import threading

    import httpx
    import paho.mqtt.client as mqtt

    from theralab.monitoring.streams import register_device
    from theralab.privacy import careteam
    from theralab.privacy.auth import create_user
    from theralab.runtime.db import session_scope

    n = args.alerts
    patients = [f"sse-{t}-{i}" for t in ("http", "mqtt") for i in range(n)]
    _patients(patients)
    tokens = {}
    with session_scope() as session:
        create_user(session, "bench-doc", "bench-password", ["clinician"])
        # care teams: a clinician's stream carries only their own patients' alerts
        careteam.add_member(session, "bench-ward", "bench-doc")
        careteam.add_patients(session, "bench-ward", patients)
        for t in ("http", "mqtt"):
            tokens[t] = register_device(session, f"sse-{t}", "sse-" + t + "-0")
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "theralab.app:create_app", "--factory",
                               "--port", str(port), "--log-level", "warning"], env=env)
    topic = f"theralab-sse-{time.time_ns()}"
    ingest = subprocess.Popen([sys.executable, "-m", "theralab.cli.main", "monitor", "serve", "--topic",
                               f"{topic}/+/observations", "--client-id", topic], env=env,
                              stdout=subprocess.DEVNULL)
    received: dict[str, float] = {}
    arrived = threading.Condition()
    stop = threading.Event()
    try:
        _wait_http(port)
        auth = httpx.post(f"http://127.0.0.1:{port}/v1/auth/token",
                          data={"username": "bench-doc", "password": "bench-password"}).json()["access_token"]
        headers = {"Authorization": f"Bearer {auth}"}

        def listen() -> None:
            try:
                with httpx.stream("GET", f"http://127.0.0.1:{port}/v1/alerts/stream", headers=headers,
                                  timeout=None) as stream:
                    for line in stream.iter_lines():
                        if stop.is_set():
                            return
                        if line.startswith("data: "):
                            item = json.loads(line[6:])
                            with arrived:
                                received.setdefault(item["subject"], time.perf_counter())
                                arrived.notify_all()
            except httpx.HTTPError:
                if not stop.is_set():
                    raise

        threading.Thread(target=listen, daemon=True).start()
        time.sleep(1.0)  # the stream is open
        # each reading set goes to a new patient (the device is re-bound), so each raises one new alert
        pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        pub.connect("127.0.0.1", 1883)
        pub.loop_start()
        time.sleep(2.0)  # the ingest process has subscribed
        # a device keeps its connection open (keep-alive), as a monitor posting every few seconds does;
        # a new client per reading would add the client's own set-up (its TLS context) to every figure
        device = httpx.Client(base_url=f"http://127.0.0.1:{port}",
                              headers={"X-Device-Id": "sse-http", "X-Device-Token": tokens["http"]})
        results: dict[str, list[float]] = {"http": [], "mqtt": []}
        missed = {"http": 0, "mqtt": 0}
        post_ms: list[float] = []
        push_ms: list[float] = []
        for i in range(n):
            for transport in ("http", "mqtt"):
                patient = f"sse-{transport}-{i}"
                with session_scope() as session:
                    from theralab.monitoring.streams.tables import Device

                    session.get(Device, f"sse-{transport}").patient_id = patient
                at = (datetime.now(UTC) - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
                readings = [{"code": c, "value": v, "unit": u, "at": at} for c, v, u in VITALS]
                t0 = time.perf_counter()
                if transport == "http":
                    r = device.post("/v1/observations", json={"readings": readings})
                    r.raise_for_status()
                    post_ms.append((time.perf_counter() - t0) * 1000)
                    post_done = time.perf_counter()
                else:
                    pub.publish(f"{topic}/sse-mqtt/observations",
                                json.dumps({"token": tokens["mqtt"], "readings": readings}), qos=1)
                with arrived:
                    arrived.wait_for(lambda p=patient: p in received, timeout=5)
                if patient in received:
                    results[transport].append((received[patient] - t0) * 1000)
                    if transport == "http":  # the push itself: SSE arrival relative to the POST's answer
                        push_ms.append((received[patient] - post_done) * 1000)
                else:
                    missed[transport] += 1
        pub.loop_stop()
        device.close()
        if not post_ms or not push_ms:
            raise SystemExit(f"no alert reached the stream (missed {missed}): "
                             "is the client on the patients' care team?")
        print(f"HTTP POST alone (validate, store, score, alert, commit): p50 {pct(post_ms, .5):.1f} ms, "
              f"p99 {pct(post_ms, .99):.1f} ms; SSE arrival minus POST answer: p50 {pct(push_ms, .5):.1f} ms, "
              f"p99 {pct(push_ms, .99):.1f} ms (negative: the alert reached the browser first)")
        db = "PostgreSQL" if args.database_url.startswith("postgresql") else "SQLite"
        for transport, lat in results.items():
            if lat:
                print(f"{transport.upper()} reading -> SSE client ({db}): n={len(lat)} p50 {pct(lat, .5):.1f} ms, "
                      f"p99 {pct(lat, .99):.1f} ms, max {max(lat):.1f} ms; missed {missed[transport]}")
    finally:
        stop.set()
        for process in (ingest, server):
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:  # uvicorn waits for the open stream
                process.kill()
                process.wait()
        cleaner = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=topic, clean_session=True)
        cleaner.connect("127.0.0.1", 1883)
        cleaner.disconnect()


if __name__ == "__main__":
    main()
