"""In-process publish/subscribe for alert announcements: push, not poll.

Why: the live alert stream used to poll the database every 0.5 s, so a clinician saw an alert
250-500 ms after the reading. Now :mod:`theralab.runtime.alerts` collects each announcement
(``raised``, ``reopened``, ``severity_raised``, ``escalated``) on the SQLAlchemy session, and when
that transaction commits this module rings every subscriber's doorbell at once; subscribers then
read the new events from the database (the single source of truth, so nothing is ever shown that
was rolled back, and a subscriber that missed a ring catches up from its cursor).

Several processes (the API server and ``theralab monitor serve`` for MQTT) share one database:
on PostgreSQL each commit that announces also sends ``NOTIFY theralab_alerts`` and
:func:`start_pg_listener` rings this process's subscribers when another process announces. SQLite
has no such channel, so :func:`start_event_watch` looks at the newest alert event id every
:data:`WATCH_INTERVAL_S` (one indexed ``max(id)`` read per process, however many clients listen) and
rings when another process has added one. :func:`watch_other_processes` picks the right one.
Subscribers still re-check the database now and then as a safety net.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
CHANNEL = "theralab_alerts"


class AlertBus:
    """Doorbells for subscribers in this process (asyncio or threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[int, Callable[[list[dict[str, Any]]], None]] = {}
        self._next = 0
        self.published = 0

    def subscribe(self, callback: Callable[[list[dict[str, Any]]], None]) -> int:
        """Call ``callback(announcements)`` after every announcing commit (from the committing thread)."""
        with self._lock:
            self._next += 1
            self._subscribers[self._next] = callback
            return self._next

    def unsubscribe(self, token: int) -> None:
        with self._lock:
            self._subscribers.pop(token, None)

    def publish(self, announcements: list[dict[str, Any]]) -> None:
        with self._lock:
            callbacks = list(self._subscribers.values())
            self.published += len(announcements)
        for callback in callbacks:
            try:
                callback(announcements)
            except Exception:  # noqa: BLE001 - one broken subscriber must not stop the others
                log.exception("alert subscriber failed")


BUS = AlertBus()


class AsyncDoorbell:
    """An asyncio-side subscription: ``await bell.wait(timeout)`` returns when something was announced."""

    def __init__(self, bus: AlertBus = BUS) -> None:
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        self._bus = bus
        self._token = bus.subscribe(lambda _items: self._loop.call_soon_threadsafe(self._event.set))

    async def wait(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self._event.clear()

    def close(self) -> None:
        self._bus.unsubscribe(self._token)


@event.listens_for(Session, "before_commit")
def _notify_other_processes(session: Session) -> None:
    if not session.info.get("alert_announcements"):
        return
    try:
        bind = session.get_bind()
        if bind.dialect.name == "postgresql":  # delivered by PostgreSQL only if the commit succeeds
            session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
    except Exception:  # noqa: BLE001 - a missing notification only delays delivery to the fallback poll
        log.exception("pg_notify failed")


@event.listens_for(Session, "after_commit")
def _publish_after_commit(session: Session) -> None:
    announcements = session.info.pop("alert_announcements", None)
    if announcements:
        BUS.publish(announcements)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop("alert_announcements", None)


_listener_lock = threading.Lock()
_listener: threading.Thread | None = None


def start_pg_listener(url: str, bus: AlertBus = BUS) -> threading.Thread | None:
    """LISTEN for announcements committed by other processes on PostgreSQL (once per process).

    Returns the listener thread, or None on databases without LISTEN/NOTIFY.
    """
    global _listener
    if not url.startswith("postgresql"):
        return None
    with _listener_lock:
        if _listener is not None and _listener.is_alive():
            return _listener

        def _run() -> None:
            import time

            import psycopg

            conninfo = url.replace("postgresql+psycopg://", "postgresql://")
            while True:
                try:
                    with psycopg.connect(conninfo, autocommit=True) as conn:
                        conn.execute(f"LISTEN {CHANNEL}")
                        for _note in conn.notifies():
                            bus.publish([{"action": "notify"}])
                except Exception:  # noqa: BLE001 - reconnect; subscribers still have their fallback poll
                    log.exception("alert LISTEN connection lost; reconnecting")
                    time.sleep(1.0)

        _listener = threading.Thread(target=_run, name="alert-listen", daemon=True)
        _listener.start()
        return _listener


WATCH_INTERVAL_S = 0.025  # SQLite: how often the newest alert event id is read (cost: one index lookup)
_watch: threading.Thread | None = None
_watched: dict[str, Any] = {"url": None, "seen": None}


def start_event_watch(url: str) -> threading.Thread:
    """Ring this process's subscribers when another process commits an alert event.

    Why: on SQLite the API server and ``theralab monitor serve`` (MQTT) are separate processes with no
    notification channel between them; without this an MQTT alert waited for the stream's periodic
    re-check (seconds). Reading ``max(alert_events.id)`` every 25 ms adds at most that to the push.
    One thread per process watches the database in use (a later call with another URL moves it).
    """
    global _watch
    with _listener_lock:
        if _watched["url"] != url:
            _watched.update(url=url, seen=None)
        if _watch is not None and _watch.is_alive():
            return _watch

        def _run() -> None:
            import time

            from theralab.runtime.db import get_engine

            newest = text("SELECT max(id) FROM alert_events")  # by name: alerts.py imports this module
            while True:
                url_now, seen = _watched["url"], None
                try:
                    with get_engine(url_now).connect() as conn:
                        current = conn.execute(newest).scalar() or 0
                    with _listener_lock:
                        if _watched["url"] == url_now:
                            seen, _watched["seen"] = _watched["seen"], current
                    if seen is not None and current > seen:
                        BUS.publish([{"action": "notify"}])
                except Exception:  # noqa: BLE001 - a failed read only delays delivery to the safety-net check
                    log.debug("alert event watch failed", exc_info=True)
                time.sleep(WATCH_INTERVAL_S)

        _watch = threading.Thread(target=_run, name="alert-watch", daemon=True)
        _watch.start()
        return _watch


def watch_other_processes(url: str) -> threading.Thread | None:
    """Deliver other processes' announcements here: LISTEN on PostgreSQL, the event-id watch elsewhere."""
    if url.startswith("postgresql"):
        return start_pg_listener(url)
    return start_event_watch(url)


__all__ = ["BUS", "CHANNEL", "WATCH_INTERVAL_S", "AlertBus", "AsyncDoorbell", "start_event_watch",
           "start_pg_listener", "watch_other_processes"]
