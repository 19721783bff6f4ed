"""End to end through the real Mosquitto broker: publish, ingest, score, alert; bad messages quarantined."""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from theralab.ehr.tables import ObservationRow
from theralab.monitoring.streams.ingest import register_device
from theralab.monitoring.streams.tables import QuarantinedReading
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


def _patients(*ids: str) -> None:
    """Patients exist before devices attach to them."""
    from theralab.ehr.fhir import import_resources
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        import_resources([{"resourceType": "Patient", "id": i} for i in ids], session)


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

    _patients("p-7")

    with session_scope() as session:
        token = register_device(session, "bed-7", "p-7")
    topic_root = f"theralab-test-{time.time_ns()}"
    service = MqttIngestService(*BROKER, topic=f"{topic_root}/+/observations", client_id=topic_root,
                                clean_session=True).start()
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
        vitals = session.scalars(select(ObservationRow).where(ObservationRow.device_id == "bed-7")).all()
        alerts = session.scalars(select(Alert).where(Alert.subject == "p-7")).all()
        quarantined = [q.reason for q in session.scalars(select(QuarantinedReading))]
    assert len(vitals) == 5  # the re-sent copy was deduplicated
    assert len(alerts) == 1 and alerts[0].severity == "high"
    assert alerts[0].evidence[0]["news2"] == 3 + 3 + 3 + 3 + 2
    assert any("malformed MQTT payload" in r for r in quarantined)
    assert service.stats.acked == 4  # every message acknowledged once stored or quarantined
    assert any("token is wrong" in r for r in quarantined)
    assert service.ingestor.counters["duplicates"] == 5


def _readings(at: str, **values: float) -> list[dict]:
    codes = {"rr": ("9279-1", "/min"), "spo2": ("2708-6", "%"), "sbp": ("8480-6", "mm[Hg]"),
             "hr": ("8867-4", "/min"), "temp": ("8310-5", "Cel")}
    return [{"code": codes[k][0], "value": v, "unit": codes[k][1], "at": at} for k, v in values.items()]


def _poison(token: str, at: str) -> list[str | bytes]:
    """The malformed messages that used to kill the MQTT worker (issue 20), and their cousins."""
    obs = {"resourceType": "Observation", "effectiveDateTime": at,
           "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
           "valueQuantity": {"value": 80, "code": "/min"}}
    return [json.dumps(x) for x in [
        {"token": token, "readings": 5},
        {"token": 123, "readings": []},  # needs only a registered device id to send
        {"token": token, "payload": {**obs, "code": "8867-4"}},
        {"token": token, "payload": {"resourceType": "Bundle", "entry": [5]}},
        {"token": token, "payload": {**obs, "valueQuantity": 80}},
        {"token": token, "payload": {**obs, "component": [{"code": "x"}]}},
        {"token": token, "readings": [{"code": 8867, "value": 80, "at": at}]},
        {"token": token, "readings": [{"code": "8867-4", "value": True, "at": at}]},
        {"token": token, "readings": [{"code": "8867-4", "value": 80, "unit": 5, "at": at}]},
        {"token": token, "readings": [{"code": "8867-4", "value": 10 ** 400, "at": at}]},
        {"token": token, "payload": [5, "x"]},
        {"token": token, "payload": {"resourceType": "Patient"}},
        {"token": [token], "readings": []},
        5, [1, 2], "text", None,
    ]] + ["[" * 100_000, "{not json", b"\x00\xff"]


def test_malformed_messages_never_stop_mqtt_ingest(tl_env):
    """Every poison message is quarantined with a reason and acknowledged; the next good one is stored."""
    import paho.mqtt.client as mqtt

    from theralab.monitoring.streams.mqtt import MqttIngestService

    _patients("p-8")

    with session_scope() as session:
        token = register_device(session, "bed-8", "p-8")
    root = f"theralab-test-{time.time_ns()}"
    service = MqttIngestService(*BROKER, topic=f"{root}/+/observations", client_id=root, clean_session=True,
                                max_batch=3).start()
    at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    poison = _poison(token, at)
    good = json.dumps({"token": token, "readings": _readings(at, hr=72)})
    try:
        publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        publisher.connect(*BROKER)
        publisher.loop_start()
        for body in [*poison, good]:
            publisher.publish(f"{root}/bed-8/observations", body, qos=1).wait_for_publish()
        publisher.loop_stop()
        publisher.disconnect()
        assert _wait(lambda: service.stats.acked >= len(poison) + 1)
        assert service.worker_alive
    finally:
        service.stop()
    with session_scope() as session:
        stored = session.scalars(select(ObservationRow).where(ObservationRow.device_id == "bed-8")).all()
        reasons = [q.reason for q in session.scalars(select(QuarantinedReading))]
    assert [(r.code, r.value) for r in stored] == [("8867-4", 72.0)]
    assert len(reasons) == len(poison) and service.stats.rejected == len(poison)
    assert service.stats.restarts == 0  # each failure was a quarantine, not a crash
    joined = "\n".join(reasons)
    assert "readings: Input should be a valid list" in joined
    assert "'token' must be a non-empty string, got int" in joined
    assert "readings.0.value" in joined and "got True" in joined
    assert "nested deeper" in joined and "not UTF-8" in joined


def test_database_failure_restarts_the_worker_and_loses_nothing(tl_env):
    """A transient database error is not acknowledged: the supervised worker backs off and retries."""
    import paho.mqtt.client as mqtt
    from sqlalchemy.exc import OperationalError

    from theralab.monitoring.streams.mqtt import MqttIngestService

    _patients("p-9")

    with session_scope() as session:
        token = register_device(session, "bed-9", "p-9")
    root = f"theralab-test-{time.time_ns()}"
    service = MqttIngestService(*BROKER, topic=f"{root}/+/observations", client_id=root, clean_session=True,
                                restart_backoff=0.05)
    real_ingest, failures = service.ingestor.ingest, []

    def flaky(*args, **kwargs):
        if len(failures) < 2:
            failures.append(1)
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return real_ingest(*args, **kwargs)

    service.ingestor.ingest = flaky
    service.start()
    at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    try:
        publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        publisher.connect(*BROKER)
        publisher.loop_start()
        publisher.publish(f"{root}/bed-9/observations", json.dumps({"token": token, "readings": _readings(at, hr=90)}),
                          qos=1).wait_for_publish()
        publisher.loop_stop()
        publisher.disconnect()
        assert _wait(lambda: service.stats.acked >= 1)
    finally:
        service.stop()
    with session_scope() as session:
        stored = session.scalars(select(ObservationRow).where(ObservationRow.device_id == "bed-9")).all()
        assert session.scalar(select(QuarantinedReading.id)) is None
    assert [r.value for r in stored] == [90.0]
    assert service.stats.restarts == 1 and "database is locked" in service.stats.last_error


CHILD = """
import sys, time
from theralab.monitoring.streams.mqtt import MqttIngestService
service = MqttIngestService("127.0.0.1", 1883, topic=sys.argv[1] + "/+/observations", client_id=sys.argv[1])
service._handle_batch = lambda batch: time.sleep(3600)  # received, never stored: then the process dies
service.start()
print("ready", flush=True)
while service.stats.received < 1:
    time.sleep(0.05)
print("received", flush=True)
time.sleep(3600)
"""


def test_a_message_received_by_a_process_that_dies_is_redelivered(tl_env):
    """QoS 1 is acknowledged only after storing: kill the ingest process mid-message, a new one stores it."""
    import os
    import signal
    import subprocess
    import sys

    import paho.mqtt.client as mqtt

    from theralab.monitoring.streams.mqtt import MqttIngestService

    _patients("p-10")

    with session_scope() as session:
        token = register_device(session, "bed-10", "p-10")
    root = f"theralab-test-{time.time_ns()}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, root], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout.readline().strip() == "ready"
        at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
        publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        publisher.connect(*BROKER)
        publisher.loop_start()
        publisher.publish(f"{root}/bed-10/observations", json.dumps({"token": token, "readings": _readings(at, hr=88)}),
                          qos=1).wait_for_publish()
        publisher.loop_stop()
        publisher.disconnect()
        assert child.stdout.readline().strip() == "received"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    service = MqttIngestService(*BROKER, topic=f"{root}/+/observations", client_id=root).start()
    try:
        def _stored() -> bool:
            with session_scope() as session:
                return session.scalar(select(ObservationRow.id).where(ObservationRow.device_id == "bed-10")) is not None

        assert _wait(_stored, timeout=10)
    finally:
        service.stop()
        cleaner = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=root, clean_session=True)
        cleaner.connect(*BROKER)  # forget the persistent session on the shared broker
        cleaner.disconnect()


def test_mqtt_fuzzed_messages_are_each_stored_or_quarantined(tl_env):
    """Hypothesis-generated messages through the broker: every one acknowledged, the worker never dies."""
    import paho.mqtt.client as mqtt
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from theralab.monitoring.streams.mqtt import MqttIngestService

    _patients("p-11")

    with session_scope() as session:
        token = register_device(session, "bed-11", "p-11")
    root = f"theralab-test-{time.time_ns()}"
    service = MqttIngestService(*BROKER, topic=f"{root}/+/observations", client_id=root, clean_session=True).start()
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    publisher.connect(*BROKER)
    publisher.loop_start()
    at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6)
    json_values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=3)
                               | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=10)
    readings = st.lists(st.fixed_dictionaries({"code": st.sampled_from(["8867-4", "2708-6"]) | json_values,
                                               "value": st.integers(0, 300) | json_values,
                                               "at": st.just(at) | json_values}), max_size=3)
    bodies = st.fixed_dictionaries({"token": st.just(token) | json_values, "readings": readings | json_values})
    sent = []

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(bodies.map(json.dumps) | json_values.map(json.dumps) | st.binary(max_size=20))
    def check(body):
        sent.append(body)
        publisher.publish(f"{root}/bed-11/observations", body, qos=1).wait_for_publish()
        assert _wait(lambda: service.stats.acked >= len(sent), timeout=10)
        assert service.worker_alive

    try:
        check()
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        service.stop()
    stats = service.stats
    assert stats.messages == len(sent) and stats.stored + stats.rejected == len(sent)
    with session_scope() as session:
        assert len(session.scalars(select(QuarantinedReading.id)
                                   .where(QuarantinedReading.source == "mqtt")).all()) >= stats.rejected


def test_ingest_stats_cover_mqtt_and_http(api):
    """Issue 20 finding 7: /v1/ingest/stats left out MQTT (it runs in another process)."""
    import paho.mqtt.client as mqtt

    from theralab.monitoring.streams.mqtt import MqttIngestService

    _patients("p-12")
    with session_scope() as session:
        token = register_device(session, "bed-12", "p-12")
    root = f"theralab-test-{time.time_ns()}"
    service = MqttIngestService(*BROKER, topic=f"{root}/+/observations", client_id=root, clean_session=True).start()
    at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    try:
        publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        publisher.connect(*BROKER)
        publisher.loop_start()
        for body in [json.dumps({"token": token, "readings": _readings(at, hr=72, rr=14)}), "{oops"]:
            publisher.publish(f"{root}/bed-12/observations", body, qos=1).wait_for_publish()
        publisher.loop_stop()
        publisher.disconnect()
        assert _wait(lambda: service.stats.acked >= 2)
    finally:
        service.stop()
    dev = {"X-Device-Id": "bed-12", "X-Device-Token": token}
    api.post("/v1/observations", json={"readings": _readings(at.replace(":00.", ":01."), spo2=97)}, headers=dev)
    stats = api.get("/v1/ingest/stats", headers=api.login("doc")).json()
    assert stats["by_source"]["mqtt"] == {"stored": 2, "quarantined": 1}
    assert stats["by_source"]["http"] == {"stored": 1, "quarantined": 0}
