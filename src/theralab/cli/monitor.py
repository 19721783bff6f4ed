"""``theralab monitor``: register devices, run MQTT ingestion, replay recorded data into the stream."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import typer

from theralab.cli._common import App, console, progress_bar
from theralab.errors import InputError

app = App(help="Remote monitoring streams: devices, MQTT ingest, replay of recorded vitals.",
                  no_args_is_help=True)
device_app = App(help="Devices (wearables, bedside monitors) bound to patients.", no_args_is_help=True)
app.add_typer(device_app, name="device")


@device_app.command("add")
def device_add(device_id: str, patient_id: str, kind: str = typer.Option("wearable", help="device kind"),
               location: str = typer.Option("", help="where it is, e.g. 'Ward 7A, bed 3' (shown on the ward board)"),
               ) -> None:
    """Register a device for a patient and print its token (shown once; the device sends it)."""
    from theralab.monitoring.streams import register_device
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        token = register_device(session, device_id, patient_id, kind, location or None)
    console.print(f"device [bold]{device_id}[/bold] -> patient {patient_id}\ntoken: [bold]{token}[/bold]")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="MQTT broker host"),
    port: int = typer.Option(1883, help="MQTT broker port"),
    topic: str = typer.Option("theralab/devices/+/observations", help="topic to subscribe ('+' = device id)"),
    seconds: float = typer.Option(0, help="stop after this many seconds (0 = until Ctrl-C)"),
    client_id: str = typer.Option("", help="MQTT client id of the persistent session (default "
                                  "theralab-ingest-<hostname>); a restarted process with the same id receives "
                                  "every message the previous one had not acknowledged"),
) -> None:
    """Subscribe to the broker and ingest every device's readings (HTTP ingest runs in 'theralab serve').

    A message is acknowledged to the broker only once it is stored or quarantined, so killing this
    process loses nothing: restart it (same --client-id) and the broker redelivers.
    """
    from theralab.monitoring.streams.mqtt import MqttIngestService

    service = MqttIngestService(host, port, topic, client_id=client_id or None).start()
    console.print(f"ingesting from mqtt://{host}:{port}/{topic} (Ctrl-C stops)")
    started = time.time()
    try:
        while not seconds or time.time() - started < seconds:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        service.stop()
    console.print(f"mqtt {service.stats.to_dict()}; ingestor {service.ingestor.counters}")


def _parse_speed(speed: str) -> float:
    text = speed.lower().rstrip("x")
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"speed {speed!r} is not like '60x'", where="--speed") from None
    if value <= 0:
        raise InputError("speed must be positive", where="--speed")
    return value


@app.command()
def replay(
    file: Path = typer.Argument(..., help="CSV with columns time (ISO 8601 UTC), code (LOINC or name), value, unit"),
    device: str = typer.Option(..., help="device id (registered with 'theralab monitor device add')"),
    token: str = typer.Option(..., help="the device's token"),
    speed: str = typer.Option("60x", help="replay speed: 60x plays one minute of data per second; 'max' no waiting"),
    url: str = typer.Option("", help="POST to this theralab server (e.g. http://127.0.0.1:8000); default: MQTT"),
    mqtt_host: str = typer.Option("127.0.0.1", help="MQTT broker host (when --url is not given)"),
    mqtt_port: int = typer.Option(1883, help="MQTT broker port"),
    shift_to_now: bool = typer.Option(True, help="move timestamps so the last reading is 'now'"),
    batch: int = typer.Option(50, help="readings per message"),
) -> None:
    """Replay recorded readings into the live stream (HTTP or MQTT), paced by their timestamps."""
    import pandas as pd

    if not file.exists():
        raise InputError(f"{file} does not exist", where=str(file))
    frame = pd.read_csv(file)
    missing = {"time", "code", "value"} - set(frame.columns)
    if missing:
        raise InputError(f"{file} lacks columns {sorted(missing)}", where=str(file),
                         hint="columns: time, code, value, unit")
    times = pd.to_datetime(frame["time"], utc=True, errors="coerce")
    if times.isna().any():
        bad = int(times.isna().idxmax()) + 2
        raise InputError("unparseable time", where=f"{file} line {bad}")
    frame = frame.assign(time=times).sort_values("time")
    if shift_to_now:
        frame["time"] = frame["time"] + (pd.Timestamp(datetime.now(UTC)) - frame["time"].max())
    factor = float("inf") if speed == "max" else _parse_speed(speed)
    sender = _http_sender(url, device, token) if url else _mqtt_sender(mqtt_host, mqtt_port, device, token)
    start_wall, start_data = time.time(), frame["time"].iloc[0]
    with progress_bar() as bar:
        task = bar.add_task("replaying", total=len(frame))
        for begin in range(0, len(frame), batch):
            part = frame.iloc[begin:begin + batch]
            if factor != float("inf"):
                due = (part["time"].iloc[0] - start_data).total_seconds() / factor
                wait = due - (time.time() - start_wall)
                if wait > 0:
                    time.sleep(wait)
            readings = [{"code": str(r.code), "value": float(r.value), "unit": getattr(r, "unit", None),
                         "at": r.time.isoformat().replace("+00:00", "Z")} for r in part.itertuples()]
            sender({"device_id": device, "readings": readings})
            bar.update(task, advance=len(part))
    console.print(f"replayed {len(frame)} readings")


def _http_sender(url: str, device: str, token: str):  # type: ignore[no-untyped-def]
    import httpx

    client = httpx.Client(base_url=url, headers={"X-Device-Id": device, "X-Device-Token": token}, timeout=30)

    def send(body: dict) -> None:
        while True:
            response = client.post("/v1/observations", json=body)
            if response.status_code == 429:
                time.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            if response.status_code >= 400:
                raise InputError(f"server refused the batch: {response.text[:200]}")
            return

    return send


def _mqtt_sender(host: str, port: int, device: str, token: str):  # type: ignore[no-untyped-def]
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect(host, port)
    client.loop_start()

    def send(body: dict) -> None:
        message = json.dumps({"token": token, **body})
        client.publish(f"theralab/devices/{device}/observations", message, qos=1).wait_for_publish()

    return send


@app.command()
def escalate(after_minutes: float = typer.Option(15.0, help="escalate alerts unacknowledged this long")) -> None:
    """Escalate unacknowledged alerts (run every minute from cron or a scheduler)."""
    from theralab.runtime.alerts import escalate_due
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        done = escalate_due(session, after_minutes)
        console.print(f"escalated {len(done)} alert(s)")
