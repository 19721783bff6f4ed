"""MQTT ingestion: subscribe to a topic on a broker and feed the shared :class:`Ingestor`.

Topic: ``theralab/devices/<device_id>/observations`` by default (``+`` wildcard subscribed; the
device id is the level before the last one). The payload is a JSON object carrying the device's
``token`` and either compact readings (``{"token": ..., "readings": [...]}``) or a FHIR resource
(``{"token": ..., "payload": {...}}``); see :mod:`theralab.monitoring.streams.schemas`.

Delivery guarantee (the rule integration engines such as Mirth/NextGen Connect keep): a QoS 1
message is acknowledged to the broker only after it was stored or quarantined. The client uses
paho-mqtt's ``manual_ack`` and a persistent session (fixed ``client_id``, ``clean_session=False``),
so if this process dies between receiving and storing, the broker redelivers the unacknowledged
messages to the next process that connects with the same client id. A redelivered message that
had in fact been stored is deduplicated by the ``(device, code, time)`` key.

No message can stop the stream: each payload is validated as a whole before use and any failure
quarantines that message with its reason; the worker thread is supervised, and a batch that
raises is retried message by message, a message that still raises is quarantined ("internal
error") and acknowledged. If the database is unavailable (or even quarantining fails), nothing is
acknowledged: the worker backs off and retries the same messages, and ``stats.last_error`` says why.

Back-pressure: the broker sends at most its in-flight window of unacknowledged messages
(Mosquitto's ``max_inflight_messages``, 20 by default), so the local queue stays small; the
network thread blocks (never drops) while it is full.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import OperationalError

from theralab.errors import TheralabError
from theralab.monitoring.streams import Ingestor, authenticate_device, parse_payload, quarantine
from theralab.monitoring.streams.schemas import load_json, split_envelope
from theralab.monitoring.streams.tables import Device
from theralab.runtime.db import session_scope

log = logging.getLogger(__name__)


@dataclass
class MqttStats:
    """What the service saw since it started (the database holds the totals over all processes)."""

    received: int = 0
    messages: int = 0
    stored: int = 0  # messages whose readings went to the ingestor (each reading then stored/dup/quarantined)
    rejected: int = 0  # messages quarantined whole (malformed, bad token, internal error)
    acked: int = 0
    batches: int = 0
    restarts: int = 0
    last_error: str | None = None
    reports: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "reports"}


@dataclass
class _Message:
    topic: str
    payload: bytes
    mid: int
    qos: int
    dup: bool = False  # the broker redelivers it (a previous process died before acknowledging)


class MqttIngestService:
    """Subscribe, queue, and ingest in batches; ``start()``/``stop()`` run it in background threads."""

    def __init__(self, host: str = "127.0.0.1", port: int = 1883, topic: str = "theralab/devices/+/observations",
                 ingestor: Ingestor | None = None, queue_size: int = 10_000, keep_reports: int = 100,
                 max_batch: int = 200, client_id: str | None = None, clean_session: bool = False,
                 restart_backoff: float = 0.2) -> None:
        self.host, self.port, self.topic = host, port, topic
        self.ingestor = ingestor or Ingestor()
        self.queue: queue.Queue[_Message] = queue.Queue(maxsize=queue_size)
        self.keep_reports = keep_reports
        self.max_batch = max_batch
        self.client_id = client_id or f"theralab-ingest-{socket.gethostname()}"
        self.clean_session = clean_session
        self.restart_backoff = restart_backoff
        self.stats = MqttStats()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._client: Any = None
        self._carry: list[_Message] = []  # a batch taken off the queue and not yet acknowledged
        self.connected = threading.Event()

    # network thread -------------------------------------------------------
    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any = None) -> None:
        client.subscribe(self.topic, qos=1)
        self.connected.set()

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        self.stats.received += 1
        item = _Message(message.topic, bytes(message.payload), message.mid, message.qos, bool(message.dup))
        while not self._stop.is_set():  # block, never drop: an unacknowledged message is the broker's
            try:
                self.queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    # worker thread --------------------------------------------------------
    def _supervise(self) -> None:
        """Run the drain loop; if it ever raises, log, count a restart, back off and run it again."""
        backoff = self.restart_backoff
        while True:
            try:
                self._drain()
                return
            except Exception as exc:  # noqa: BLE001 - the supervisor's whole job
                self.stats.restarts += 1
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("MQTT ingest worker failed; restarting in %.1fs", backoff)
                if self._stop.wait(backoff) and self.queue.empty() and not self._carry:
                    return
                backoff = min(backoff * 2, 5.0)

    def _drain(self) -> None:
        while True:
            if not self._carry:
                if self._stop.is_set() and self.queue.empty():
                    return
                try:
                    self._carry = [self.queue.get(timeout=0.2)]
                except queue.Empty:
                    continue
                while len(self._carry) < self.max_batch:
                    try:
                        self._carry.append(self.queue.get_nowait())
                    except queue.Empty:
                        break
            batch = self._carry
            try:
                self._handle_batch(batch)
            except Exception as exc:  # noqa: BLE001 - fall back to one message at a time
                log.warning("MQTT batch of %d failed (%s); retrying message by message", len(batch), exc)
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                for message in batch:
                    self._handle_alone(message)
            self._ack(batch)
            self._carry = []

    def _handle_alone(self, message: _Message) -> None:
        """One message on its own; if that raises too, quarantine it (this may raise: then we retry)."""
        try:
            self._handle_batch([message])
        except OperationalError:
            raise  # the database is down or locked: the supervisor backs off and retries, nothing is acked
        except Exception as exc:  # noqa: BLE001 - a poison message is quarantined, not retried forever
            self.stats.rejected += 1
            self._quarantine(_device_from_topic(message.topic), message.payload,
                             f"internal error while ingesting: {type(exc).__name__}: {exc}")

    def _ack(self, batch: list[_Message]) -> None:
        if self._client is None:
            return
        for message in batch:
            if message.qos > 0:
                self._client.ack(message.mid, message.qos)
            self.stats.acked += 1

    def _handle_batch(self, batch: list[_Message]) -> None:
        """Validate and authenticate each message, then store each device's readings in one transaction.

        Why batch: one transaction per device per drain instead of one per message is what lets a
        busy broker be drained faster than it fills; every message is still checked on its own
        (its JSON, its schema, its token), and a bad one is quarantined without touching the others.
        """
        per_device: dict[str, tuple[Device, list[Any], int]] = {}
        authenticated: dict[tuple[str, str], Device] = {}
        rejected: list[tuple[str, _Message, str]] = []
        for message in batch:
            device_id = _device_from_topic(message.topic)
            try:
                token, content = split_envelope(load_json(message.payload))
                key = (device_id, token)
                device = authenticated.get(key)
                if device is None:
                    with session_scope() as session:
                        device = authenticate_device(session, device_id, token)
                        session.expunge(device)
                    authenticated[key] = device
                readings = parse_payload(content, device_id)
            except TheralabError as exc:
                rejected.append((device_id, message, f"malformed MQTT payload: {exc.message}"
                                 if exc.status_code == 422 else exc.message))
                continue
            device, readings_so_far, count = per_device.get(device.id, (device, [], 0))
            per_device[device.id] = (device, readings_so_far + readings, count + 1)
        if rejected:
            with session_scope() as session:
                for device_id, message, reason in rejected:
                    ref = self._ref(message)
                    if message.dup and _already_quarantined(session, device_id, message.payload, reason, ref):
                        continue  # quarantined by a process that died before acknowledging it
                    quarantine(session, device_id=device_id, raw=message.payload, reason=reason, source="mqtt",
                               message_ref=ref)
        reports = []
        for device, readings, _count in per_device.values():
            reports.append(self.ingestor.ingest(readings, device=device, source="mqtt").to_dict())
        # counted only once the whole batch went through, so a retried batch is not counted twice
        self.stats.messages += len(batch)
        self.stats.rejected += len(rejected)
        self.stats.stored += sum(count for _d, _r, count in per_device.values())
        self.stats.batches += 1
        self.stats.reports = (self.stats.reports + reports)[-self.keep_reports:]

    def _ref(self, message: _Message) -> str:
        return f"{self.client_id}#{message.mid}"

    @staticmethod
    def _quarantine(device_id: str, payload: bytes, reason: str) -> None:
        with session_scope() as session:
            quarantine(session, device_id=device_id, raw=payload, reason=reason, source="mqtt")

    # lifecycle ------------------------------------------------------------
    @property
    def worker_alive(self) -> bool:
        return self._worker is not None and self._worker.is_alive()

    def start(self, wait: float = 10.0) -> MqttIngestService:
        """Connect, subscribe and start the worker; waits until subscribed (or raises)."""
        import paho.mqtt.client as mqtt

        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id,
                                   clean_session=self.clean_session, manual_ack=True)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.connect(self.host, self.port, keepalive=30)
        self._client.loop_start()
        self._worker = threading.Thread(target=self._supervise, name="mqtt-ingest", daemon=True)
        self._worker.start()
        if not self.connected.wait(wait):
            self.stop()
            raise ConnectionError(f"could not subscribe to {self.topic} on {self.host}:{self.port}")
        return self

    def stop(self) -> None:
        """Finish and acknowledge what is queued, then disconnect."""
        self._stop.set()
        if self._worker is not None:
            self._worker.join(timeout=30)
        if self._client is not None:
            self._client.loop_stop()
            self._client.disconnect()


def _already_quarantined(session: Any, device_id: str, payload: bytes, reason: str, ref: str) -> bool:
    """Whether a redelivered message was quarantined already by a process that died before its ack.

    Stored readings are deduplicated by their key; a refused message has none. A broker resends
    an unacknowledged message with the ``dup`` flag and the same packet id on the same session,
    so it is matched on session + packet id *and* content: an identical malformed message sent
    again by the device (a new packet id) is still quarantined again, as it must be.
    """
    from sqlalchemy import select

    from theralab.monitoring.streams.tables import QuarantinedReading

    raw = payload[:2000].decode("utf-8", "replace").replace("\x00", "\ufffd")[:500]
    return session.scalar(select(QuarantinedReading.id).where(
        QuarantinedReading.source == "mqtt", QuarantinedReading.device_id == device_id[:120],
        QuarantinedReading.raw == raw, QuarantinedReading.reason == reason[:2000],
        QuarantinedReading.message_ref == ref[:200]).order_by(QuarantinedReading.id.desc()).limit(1)) is not None


def _device_from_topic(topic: str) -> str:
    parts = topic.split("/")
    return parts[-2] if len(parts) >= 3 else ""


__all__ = ["MqttIngestService", "MqttStats"]
