"""Soak test: a day of readings for 100 devices over MQTT, malformed messages, a killed ingest process.

Everything real: the local Mosquitto broker, ``theralab monitor serve`` as a separate ingest
process (persistent MQTT session, QoS 1 acknowledged only after stored or quarantined), SQLite
in a temp data dir (or ``--database-url``), NEWS2 scoring and alerting on every message.

The publisher plays ``--hours`` of readings (five NEWS2 vitals every ``--interval`` minutes per
device, a random walk around normal values) as fast as the ingest
keeps up, interleaving a malformed message (20 kinds: broken JSON, wrong types, bad tokens, bad
FHIR) every ``--malformed-every`` messages, and SIGKILLs the ingest process ``--kills`` times
mid-stream, restarting it with the same client id. The broker keeps what the dead process had
not acknowledged and redelivers it. At the end it checks that nothing was lost:

    readings stored          == 5 x well-formed messages sent
    messages quarantined     == malformed messages sent
    stored + quarantined     == sent

The publisher keeps the backlog under ``--max-backlog`` messages (Mosquitto queues at most
``max_queued_messages``, 1000 by default, for an offline client; a real fleet sends 0.3 msg/s).

Usage: python benchmarks/monitoring_soak.py [--devices 100] [--hours 24] [--interval 5] [--kills 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

PROBE = b"{start-up probe"
NORMAL = {"9279-1": (16, 2, 6, 40, "/min"), "2708-6": (97, 1, 80, 100, "%"), "8480-6": (120, 8, 70, 220, "mm[Hg]"),
          "8867-4": (75, 6, 35, 180, "/min"), "8310-5": (37.0, 0.2, 35.0, 41.0, "Cel")}


def malformed(token: str, at: str, k: int) -> bytes:
    obs = {"resourceType": "Observation", "effectiveDateTime": at,
           "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
           "valueQuantity": {"value": 80, "code": "/min"}}
    kinds: list[object] = [
        {"token": token, "readings": 5}, {"token": 123, "readings": []},
        {"token": token, "payload": {**obs, "code": "x"}},
        {"token": token, "payload": {"resourceType": "Bundle", "entry": [5]}},
        {"token": token, "payload": {**obs, "valueQuantity": 80}},
        {"token": token, "readings": [{"code": "8867-4", "value": True, "at": at}]},
        {"token": token, "readings": [{"code": "8867-4", "value": "80", "at": at}]},
        {"token": token, "readings": [{"code": 8867, "value": 80, "at": at}]},
        {"token": token, "readings": [{"code": "8867-4", "value": 80, "unit": 5, "at": at}]},
        {"token": "stolen", "readings": []}, {"readings": []}, {"token": token, "payload": [5]},
        {"token": token, "payload": {"resourceType": "Patient"}}, 5, [1, 2], None, "text",
    ]
    raw = [b"{not json", b"\xff\xfe\x00", b"[" * 5000]
    choice = k % (len(kinds) + len(raw))
    return json.dumps(kinds[choice]).encode() if choice < len(kinds) else raw[choice - len(kinds)]


def start_ingest(env: dict[str, str], topic: str, client_id: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "theralab.cli.main", "monitor", "serve", "--topic",
                             f"{topic}/+/observations", "--client-id", client_id], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--interval", type=float, default=5.0, help="minutes between a device's readings")
    parser.add_argument("--malformed-every", type=int, default=50, help="one malformed message per N messages")
    parser.add_argument("--kills", type=int, default=2, help="times the ingest process is SIGKILLed mid-stream")
    parser.add_argument("--max-backlog", type=int, default=400)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="tl-soak-"))
    env = {**os.environ, "THERALAB_DATA_DIR": str(data_dir)}
    if args.database_url:
        env["THERALAB_DATABASE_URL"] = args.database_url
    os.environ.update(env)
    from theralab.settings import reset_settings

    reset_settings()
    import paho.mqtt.client as mqtt
    from sqlalchemy import func, select

    from theralab.ehr.fhir import import_resources
    from theralab.ehr.tables import ObservationRow
    from theralab.monitoring.streams import register_device
    from theralab.monitoring.streams.tables import QuarantinedReading
    from theralab.runtime import migrate
    from theralab.runtime.alerts import Alert
    from theralab.runtime.db import session_scope

    migrate.upgrade()
    devices = [f"soak-{d:03d}" for d in range(args.devices)]
    with session_scope() as session:
        import_resources([{"resourceType": "Patient", "id": f"p-{d}"} for d in devices], session)
    with session_scope() as session:
        tokens = {d: register_device(session, d, f"p-{d}") for d in devices}

    def progress() -> tuple[int, int]:
        with session_scope() as session:
            stored = session.scalar(select(func.count()).select_from(ObservationRow)
                                    .where(ObservationRow.source == "stream:mqtt")) or 0
            refused = session.scalar(select(func.count()).select_from(QuarantinedReading)
                                     .where(QuarantinedReading.source == "mqtt",
                                            QuarantinedReading.raw != PROBE.decode())) or 0
        return stored, refused

    rng = random.Random(args.seed)
    topic, client_id = f"theralab-soak-{time.time_ns()}", f"soak-{time.time_ns()}"
    ingest = start_ingest(env, topic, client_id)
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{client_id}-pub")
    pub.connect("127.0.0.1", 1883)
    pub.loop_start()
    # wait until the ingest process has subscribed (a message published before its first
    # subscription has no session to be queued in): probe with a malformed message until quarantined
    probes = 0
    while True:
        with session_scope() as session:
            if session.scalar(select(QuarantinedReading.id).where(QuarantinedReading.raw == PROBE.decode())):
                break
        pub.publish(f"{topic}/{devices[0]}/observations", PROBE, qos=1).wait_for_publish()
        probes += 1
        time.sleep(1.0)
    probes_quarantined = 0  # progress() leaves the probes out

    steps = int(args.hours * 60 / args.interval)
    start = datetime.now(UTC) - timedelta(hours=args.hours, minutes=5)
    state = {d: {code: v[0] for code, v in NORMAL.items()} for d in devices}
    total_messages = steps * args.devices
    kill_at = [int(total_messages * (k + 1) / (args.kills + 1)) for k in range(args.kills)]
    good = bad = sent = last_check = 0
    kills_done = 0
    t0 = time.perf_counter()
    for step in range(steps):
        at = (start + timedelta(minutes=step * args.interval)).isoformat().replace("+00:00", "Z")
        for d in devices:
            vitals = state[d]
            readings = []
            for code, (mean, sd, low, high, unit) in NORMAL.items():
                drift = 0.1 * (mean - vitals[code]) + rng.gauss(0, sd * 0.5)
                vitals[code] = min(high, max(low, vitals[code] + drift))
                readings.append({"code": code, "value": round(vitals[code], 1), "unit": unit, "at": at})
            info = pub.publish(f"{topic}/{d}/observations", json.dumps({"token": tokens[d], "readings": readings}),
                               qos=1)
            good += 1
            sent += 1
            if sent % args.malformed_every == 0:
                info = pub.publish(f"{topic}/{d}/observations", malformed(tokens[d], at, bad), qos=1)
                bad += 1
                sent += 1
            if kills_done < len(kill_at) and sent >= kill_at[kills_done]:
                info.wait_for_publish()
                while True:  # kill it mid-stream: busy, with part of what was sent not yet stored
                    stored, refused = progress()
                    if stored // 5 + refused - probes_quarantined >= sent // 2:
                        break
                    time.sleep(0.05)
                print(f"at the kill: {stored // 5 + refused - probes_quarantined} of {sent} messages stored or "
                      "quarantined", flush=True)
                ingest.send_signal(signal.SIGKILL)  # with messages in flight, unacknowledged
                ingest.wait()
                kills_done += 1
                print(f"killed the ingest process after {sent} messages sent; restarting", flush=True)
                ingest = start_ingest(env, topic, client_id)
            if sent - last_check >= 100:
                last_check = sent
                info.wait_for_publish()
                while True:
                    stored, refused = progress()
                    if sent - (stored // 5 + refused - probes_quarantined) < args.max_backlog:
                        break
                    time.sleep(0.2)
        if step % max(1, steps // 10) == 0:
            stored, refused = progress()
            print(f"{step}/{steps} time points, {sent} messages sent, {stored} readings stored, "
                  f"{refused} quarantined, {time.perf_counter() - t0:.0f} s", flush=True)
    deadline = time.time() + 600
    while time.time() < deadline:
        stored, refused = progress()
        if stored >= 5 * good and refused - probes_quarantined >= bad:
            break
        time.sleep(0.5)
    elapsed = time.perf_counter() - t0
    time.sleep(2.0)  # anything late (a redelivery) would show now
    stored, refused = progress()
    print(f"({probes} start-up probe(s) sent until the ingest process had subscribed; not counted)")
    ingest.terminate()
    ingest.wait(30)
    pub.loop_stop()
    pub.disconnect()
    cleaner = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    cleaner.connect("127.0.0.1", 1883)
    cleaner.disconnect()
    with session_scope() as session:
        alerts = session.scalar(select(func.count()).select_from(Alert)) or 0
        scores = session.scalar(select(func.count()).select_from(ObservationRow)
                                .where(ObservationRow.source == "stream:ews")) or 0
    print(f"\nsent {sent} messages: {good} well-formed ({5 * good} readings) + {bad} malformed; "
          f"ingest process SIGKILLed {kills_done} times")
    print(f"stored {stored} readings ({stored / 5:.0f} messages) + quarantined {refused} messages "
          f"= {stored // 5 + refused} of {sent}; NEWS2 scores {scores}, alerts {alerts}; {elapsed:.0f} s "
          f"({sent / elapsed:.0f} messages/s)")
    ok = stored == 5 * good and refused == bad
    print("NOTHING LOST" if ok else f"MISMATCH: readings {stored - 5 * good:+d}, quarantined {refused - bad:+d}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
