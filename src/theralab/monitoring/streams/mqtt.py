"""MQTT ingestion: subscribe to a topic on a broker and feed the shared :class:`Ingestor`.

Topic: ``theralab/devices/<device_id>/observations`` by default (``+`` wildcard subscribed; the
device id is the level before the last one). The
payload is a JSON object carrying the device's ``token`` and either compact readings
(``{"token": ..., "readings": [...]}``) or a FHIR resource (``{"token": ..., "payload": {...}}``).

Back-pressure: the network thread only parses and enqueues into a bounded queue; one worker
thread drains it in batches per device. When the queue is full the network thread waits (the
broker then holds QoS 1 messages), and after ``put_timeout`` seconds the message is dropped and
counted, never silently lost. Malformed payloads and bad tokens are quarantined with the reason.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from theralab.errors import TheralabError
from theralab.monitoring.streams.ingest import Ingestor, authenticate_device, parse_payload
from theralab.monitoring.streams.tables import Device, QuarantinedReading
from theralab.runtime.db import session_scope

log = logging.getLogger(__name__)


@dataclass
class MqttStats:
    received: int = 0
    messages: int = 0
    rejected: int = 0
    dropped: int = 0
    batches: int = 0
    reports: list[dict[str, Any]] = field(default_factory=list)


class MqttIngestService:
    """Subscribe, queue, and ingest in batches; ``start()``/``stop()`` run it in background threads."""

    def __init__(self, host: str = "127.0.0.1", port: int = 1883, topic: str = "theralab/devices/+/observations",
                 ingestor: Ingestor | None = None, queue_size: int = 10_000, put_timeout: float = 5.0,
                 keep_reports: int = 100, max_batch: int = 200) -> None:
        self.host, self.port, self.topic = host, port, topic
        self.ingestor = ingestor or Ingestor()
        self.queue: queue.Queue[tuple[str, bytes]] = queue.Queue(maxsize=queue_size)
        self.put_timeout = put_timeout
        self.keep_reports = keep_reports
        self.max_batch = max_batch
        self.stats = MqttStats()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._client: Any = None
        self.connected = threading.Event()

    # network thread -------------------------------------------------------
    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any = None) -> None:
        client.subscribe(self.topic, qos=1)
        self.connected.set()

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        self.stats.received += 1
        try:
            self.queue.put((message.topic, bytes(message.payload)), timeout=self.put_timeout)
        except queue.Full:
            self.stats.dropped += 1
            self._quarantine(_device_from_topic(message.topic), bytes(message.payload),
                             "ingest queue full for too long (back-pressure); message dropped")

    # worker thread --------------------------------------------------------
    def _drain(self) -> None:
        while not self._stop.is_set() or not self.queue.empty():
            try:
                batch = [self.queue.get(timeout=0.2)]
            except queue.Empty:
                continue
            while len(batch) < self.max_batch:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            self._handle_batch(batch)

    def _handle_batch(self, batch: list[tuple[str, bytes]]) -> None:
        """Authenticate and parse each message, then store each device's readings in one transaction.

        Why batch: one transaction per device per drain instead of one per message is what lets a
        busy broker be drained faster than it fills; every message is still checked on its own
        (its token, its JSON), and a bad one is quarantined without touching the others.
        """
        per_device: dict[str, tuple[Device, list[Any], list[bytes]]] = {}
        authenticated: dict[tuple[str, str], Device] = {}
        for topic, payload in batch:
            self.stats.messages += 1
            device_id = _device_from_topic(topic)
            try:
                body = json.loads(payload)
                if not isinstance(body, dict):
                    raise ValueError("payload must be a JSON object")
                token = body.pop("token", None)
                content = body.get("payload", body)
                key = (device_id, str(token))
                device = authenticated.get(key)
                if device is None:
                    with session_scope() as session:
                        device = authenticate_device(session, device_id, token)
                        session.expunge(device)
                    authenticated[key] = device
                readings = parse_payload(content, device_id)
            except (ValueError, UnicodeDecodeError) as exc:
                self.stats.rejected += 1
                self._quarantine(device_id, payload, f"malformed MQTT payload: {exc}")
                continue
            except TheralabError as exc:
                self.stats.rejected += 1
                self._quarantine(device_id, payload, exc.message)
                continue
            entry = per_device.setdefault(device.id, (device, [], []))
            entry[1].extend(readings)
            entry[2].append(payload)
        for device, readings, payloads in per_device.values():
            try:
                report = self.ingestor.ingest(readings, device=device, source="mqtt")
            except Exception as exc:  # noqa: BLE001 - the stream must keep running; the reason is kept
                log.exception("MQTT batch failed")
                self.stats.rejected += len(payloads)
                for payload in payloads:
                    self._quarantine(device.id, payload, f"internal error: {type(exc).__name__}: {exc}")
                continue
            self.stats.batches += 1
            self.stats.reports = (self.stats.reports + [report.to_dict()])[-self.keep_reports:]

    @staticmethod
    def _quarantine(device_id: str, payload: bytes, reason: str) -> None:
        with session_scope() as session:
            session.add(QuarantinedReading(device_id=device_id, raw=payload[:500].decode("utf-8", "replace"),
                                           reason=reason, source="mqtt"))

    # lifecycle ------------------------------------------------------------
    def start(self, wait: float = 10.0) -> MqttIngestService:
        """Connect, subscribe and start the worker; waits until subscribed (or raises)."""
        import paho.mqtt.client as mqtt

        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"theralab-ingest-{time.time_ns()}")
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.connect(self.host, self.port, keepalive=30)
        self._client.loop_start()
        self._worker = threading.Thread(target=self._drain, name="mqtt-ingest", daemon=True)
        self._worker.start()
        if not self.connected.wait(wait):
            self.stop()
            raise ConnectionError(f"could not subscribe to {self.topic} on {self.host}:{self.port}")
        return self

    def stop(self) -> None:
        """Stop the network loop, finish what is queued, and disconnect."""
        self._stop.set()
        if self._client is not None:
            self._client.loop_stop()
            self._client.disconnect()
        if self._worker is not None:
            self._worker.join(timeout=30)


def _device_from_topic(topic: str) -> str:
    parts = topic.split("/")
    return parts[-2] if len(parts) >= 3 else ""
