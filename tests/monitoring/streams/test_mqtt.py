"""End to end through the real Mosquitto broker: publish, ingest, score, alert; bad messages quarantined."""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from theralab.monitoring.streams.ingest import register_device
from theralab.monitoring.streams.tables import QuarantinedReading, VitalReading
from theralab.runtime.alerts import Alert
from theralab.runtime.db import session_scope

BROKER = ("127.0.0.1", 1883)


def _broker_up() -> bool:
    try:
        with socket.create_connection(BROKER, timeout=2):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _broker_up(), reason="no MQTT broker (Mosquitto) at 127.0.0.1:1883")


def _wait(predicate, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_publish_ingest_score_alert_via_mosquitto(tl_env):
    import paho.mqtt.client as mqtt

    from theralab.monitoring.streams.mqtt import MqttIngestService

    with session_scope() as session:
        token = register_device(session, "bed-7", "p-7")
    topic_root = f"theralab-test-{time.time_ns()}"
    service = MqttIngestService(*BROKER, topic=f"{topic_root}/+/observations").start()
    # the service reads the device id from the topic's third level, as in theralab/devices/<id>/...
    service_topic = f"{topic_root}/bed-7/observations"
    try:
        publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        publisher.connect(*BROKER)
        publisher.loop_start()
        now = datetime.now(UTC) - timedelta(minutes=1)
        at = now.isoformat().replace("+00:00", "Z")
        readings = [{"code": c, "value": v, "unit": u, "at": at} for c, v, u in
                    [("9279-1", 26, "/min"), ("2708-6", 90, "%"), ("8480-6", 88, "mm[Hg]"),
                     ("8867-4", 135, "/min"), ("8310-5", 39.4, "Cel")]]
        messages = [
            json.dumps({"token": token, "device_id": "bed-7", "readings": readings}),
            json.dumps({"token": token, "device_id": "bed-7", "readings": readings}),  # re-sent
            "{not json",
            json.dumps({"token": "stolen", "device_id": "bed-7", "readings": readings}),
        ]
        for body in messages:
            publisher.publish(service_topic, body, qos=1).wait_for_publish()
        publisher.loop_stop()
        publisher.disconnect()
        assert _wait(lambda: service.stats.received >= 4 and service.queue.empty()
                     and service.stats.messages >= 4)


        def _stored() -> bool:
            with session_scope() as session:
                return session.scalar(select(Alert.id).where(Alert.subject == "p-7")) is not None

        assert _wait(_stored)  # the batch's transaction has committed
    finally:
        service.stop()
    with session_scope() as session:
        vitals = session.scalars(select(VitalReading).where(VitalReading.device_id == "bed-7")).all()
        alerts = session.scalars(select(Alert).where(Alert.subject == "p-7")).all()
        quarantined = [q.reason for q in session.scalars(select(QuarantinedReading))]
    assert len(vitals) == 5  # the re-sent copy was deduplicated
    assert len(alerts) == 1 and alerts[0].severity == "high"
    assert alerts[0].evidence[0]["news2"] == 3 + 3 + 3 + 3 + 2
    assert any("malformed MQTT payload" in r for r in quarantined)
    assert any("token is wrong" in r for r in quarantined)
    assert service.ingestor.counters["duplicates"] == 5
