"""``theralab monitor``: device registration and replay of recorded readings through real MQTT."""

from __future__ import annotations

import re
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from theralab.cli.main import app
from theralab.ehr.tables import ObservationRow
from theralab.runtime.db import session_scope

runner = CliRunner(env={"COLUMNS": "300"})


def _broker_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 1883), timeout=2):
            return True
    except OSError:
        return False


def _patients(*ids: str) -> None:
    from theralab.ehr.fhir import import_resources

    with session_scope() as session:
        import_resources([{"resourceType": "Patient", "id": i} for i in ids], session)


def test_device_add_and_errors(tl_env, tmp_path):
    missing = runner.invoke(app, ["monitor", "device", "add", "w-1", "p-1"])
    assert missing.exit_code == 2 and "no patient with id 'p-1'" in missing.output
    _patients("p-1")
    result = runner.invoke(app, ["monitor", "device", "add", "w-1", "p-1"])
    assert result.exit_code == 0 and "token:" in result.output
    again = runner.invoke(app, ["monitor", "device", "add", "w-1", "p-1"])
    assert again.exit_code == 2 and "already registered" in again.output
    bad = tmp_path / "bad.csv"
    bad.write_text("when,what\n1,2\n")
    replay = runner.invoke(app, ["monitor", "replay", str(bad), "--device", "w-1", "--token", "x"])
    assert replay.exit_code == 2 and "lacks columns" in replay.output


@pytest.mark.skipif(not _broker_up(), reason="no MQTT broker (Mosquitto) at 127.0.0.1:1883")
def test_replay_over_mqtt_into_storage(tl_env, tmp_path):
    from theralab.monitoring.streams.mqtt import MqttIngestService

    _patients("p-2")
    token = re.search(r"token: (\S+)", runner.invoke(app, ["monitor", "device", "add", "w-2", "p-2"]).output).group(1)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    lines = ["time,code,value,unit"] + [
        f"{(start + timedelta(minutes=i)).isoformat()},8867-4,{60 + i % 10},/min" for i in range(120)]
    recorded = tmp_path / "hr.csv"
    recorded.write_text("\n".join(lines))
    service = MqttIngestService(topic="theralab/devices/+/observations", client_id=f"test-{time.time_ns()}",
                                clean_session=True).start()
    try:
        result = runner.invoke(app, ["monitor", "replay", str(recorded), "--device", "w-2", "--token", token,
                                     "--speed", "max", "--batch", "40"])
        assert result.exit_code == 0, result.output
        deadline = time.time() + 20
        while time.time() < deadline:
            with session_scope() as session:
                count = session.scalar(select(func.count()).select_from(ObservationRow).where(
                    ObservationRow.device_id == "w-2"))
            if count == 120:
                break
            time.sleep(0.2)
    finally:
        service.stop()
    assert count == 120
    with session_scope() as session:
        last = session.scalar(select(func.max(ObservationRow.effective)))
    assert abs((datetime.now(UTC) - last).total_seconds()) < 120  # shifted so the last reading is 'now'
