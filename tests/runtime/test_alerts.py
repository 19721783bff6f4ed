"""The shared alert life cycle: dedup, suppression, acknowledgement, escalation, history, webhook."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import func, select

from theralab.errors import ConflictError, InputError
from theralab.runtime import alerts
from theralab.runtime.db import session_scope

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def _raise(session, minutes=0.0, severity="medium"):
    return alerts.raise_alert(session, domain="monitoring", subject="p-1", rule="news2", severity=severity,
                              title="NEWS2 5", evidence={"m": minutes}, now=T0 + timedelta(minutes=minutes))


def test_duplicates_fold_into_one_alert_and_severity_only_rises(tl_env_any_db):
    with session_scope() as session:
        first, new1 = _raise(session)
        second, new2 = _raise(session, 1, "high")
        third, new3 = _raise(session, 2, "low")
        assert (new1, new2, new3) == (True, False, False)
        assert first.id == second.id == third.id
        assert third.count == 3 and third.severity == "high" and len(third.evidence) == 3
        with pytest.raises(InputError):
            _raise(session, 3, "apocalyptic")


def test_acknowledge_resolve_suppress_and_reopen(tl_env_any_db):
    with session_scope() as session:
        alert, _ = _raise(session)
        alerts.acknowledge(session, alert.id, "doc", "seen")
        assert alert.status == "acknowledged" and alert.owner == "doc"
        alerts.resolve(session, alert.id, "doc")
        alert.resolved_at = T0 + timedelta(minutes=1)
        again, is_new = _raise(session, 30)  # inside the 60-minute suppression window
        assert not is_new and again.id == alert.id and again.status == "resolved"
        later, is_new = _raise(session, 200)  # after it: a new alert
        assert is_new and later.id != alert.id
        with pytest.raises(ConflictError):
            alerts.acknowledge(session, alert.id, "doc")
        actions = [h["action"] for h in alerts.history(session, alert.id)]
        assert actions == ["raised", "acknowledged", "resolved", "suppressed"]


def test_unacknowledged_alerts_escalate_level_by_level(tl_env_any_db):
    with session_scope() as session:
        alert, _ = _raise(session)
        assert alerts.escalate_due(session, 15, now=T0 + timedelta(minutes=10)) == []
        assert [a.id for a in alerts.escalate_due(session, 15, now=T0 + timedelta(minutes=16))] == [alert.id]
        assert alert.escalation_level == 1 and alert.status == "escalated"
        assert alerts.escalate_due(session, 15, now=T0 + timedelta(minutes=20)) == []
        alerts.escalate_due(session, 15, now=T0 + timedelta(minutes=31))
        assert alert.escalation_level == 2
        alerts.acknowledge(session, alert.id, "doc")
        assert alerts.escalate_due(session, 15, now=T0 + timedelta(minutes=90)) == []


def test_webhook_delivery(tl_env):
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with session_scope() as session:
            alert, _ = _raise(session)
            assert alerts.deliver_webhook(alert, f"http://127.0.0.1:{server.server_port}/hook")
            assert not alerts.deliver_webhook(alert, "http://127.0.0.1:9/closed", timeout=0.5, retries=0)
    finally:
        server.shutdown()
    assert received[0]["subject"] == "p-1" and received[0]["evidence"] == [{"m": 0.0}]


# ---- a worse condition is always announced (docs/monitoring.md, "Alert rules") ----------------

STATES = ("open", "escalated", "acknowledged", "resolved-recently", "resolved-long-ago")


def _into_state(session, key: str, severity: str, state: str):
    alert, _ = alerts.raise_alert(session, domain="monitoring", subject=key, rule="news2", severity=severity,
                                  title=f"first {severity}", evidence={}, dedup_key=key, now=T0)
    if state == "escalated":
        alerts.escalate_due(session, 15, now=T0 + timedelta(minutes=16))
        assert alert.status == "escalated"
    elif state == "acknowledged":
        alerts.acknowledge(session, alert.id, "nurse")
    elif state.startswith("resolved"):
        alerts.resolve(session, alert.id, "nurse")
        alert.resolved_at = T0 + timedelta(minutes=1)
    return alert


def test_every_state_and_severity_pair_announces_exactly_the_worse_conditions(tl_env):
    """25 severity pairs x 5 states: a worse trigger is announced and visible open; a milder one is not."""
    for state in STATES:
        _check_state(state)


def _check_state(state: str) -> None:
    later = T0 + timedelta(minutes=(300 if state == "resolved-long-ago" else 20))
    with session_scope() as session:
        for first in alerts.SEVERITIES:
            for second in alerts.SEVERITIES:
                key = f"{state}:{first}:{second}"
                before = _into_state(session, key, first, state)
                cursor = session.scalar(select(func.max(alerts.AlertEvent.id)))
                after, is_new = alerts.raise_alert(
                    session, domain="monitoring", subject=key, rule="news2", severity=second,
                    title=f"then {second}", evidence={}, dedup_key=key, now=later)
                announced = [e for e in alerts.announcements_after(session, cursor) if e["dedup_key"] == key]
                open_now = [a for a in alerts.list_alerts(session, subject=key, open_only=True)
                            if a.status != "acknowledged"]
                worse = alerts.SEVERITIES.index(second) > alerts.SEVERITIES.index(first)
                if state == "resolved-long-ago":  # the old alert is history: any trigger is a new alert
                    assert is_new and [e["event"] for e in announced] == ["raised"], key
                    continue
                if worse:
                    expected = {"open": "severity_raised", "escalated": "severity_raised",
                                "acknowledged": "reopened", "resolved-recently": "raised"}[state]
                    assert [e["event"] for e in announced] == [expected], key
                    assert [(a.id, a.severity) for a in open_now] == [(after.id, second)], key
                    assert is_new == (state == "resolved-recently"), key
                    if state == "acknowledged":
                        assert after.acknowledged_by is None and after.announced_at == later
                    if state == "resolved-recently":
                        assert before.status == "resolved" and before.severity == first
                        assert alerts.history(session, before.id)[-1]["action"] == "superseded"
                else:
                    assert announced == [] and not is_new and after.id == before.id, key
                    assert after.severity == first and after.count == 2, key
                    assert after.status == {"resolved-recently": "resolved"}.get(state, state), key


def test_reopened_alert_escalates_one_period_after_it_was_reopened(tl_env):
    with session_scope() as session:
        alert, _ = _raise(session, 0, "low")
        alerts.acknowledge(session, alert.id, "nurse")
        _raise(session, 40, "high")  # re-opened at T0+40
        assert alert.status == "open"
        assert alerts.escalate_due(session, 15, now=T0 + timedelta(minutes=50)) == []
        assert alerts.escalate_due(session, 15, now=T0 + timedelta(minutes=56)) == [alert]
        actions = [h["action"] for h in alerts.history(session, alert.id)]
        assert actions == ["raised", "acknowledged", "reopened", "escalated"]


def test_announcements_reach_subscribers_only_after_commit(tl_env):
    from theralab.runtime.alert_bus import BUS

    received = []
    token = BUS.subscribe(received.extend)
    try:
        with pytest.raises(RuntimeError):
            with session_scope() as session:
                _raise(session, 0, "high")
                raise RuntimeError("rolled back")
        assert received == []
        with session_scope() as session:
            alert, _ = _raise(session, 0, "low")
            assert received == []  # not before the commit
        assert [(r["action"], r["alert"]["severity"]) for r in received] == [("raised", "low")]
        with session_scope() as session:
            _raise(session, 1, "high")
        assert [r["action"] for r in received] == ["raised", "severity_raised"]
    finally:
        BUS.unsubscribe(token)


def test_alert_pages_with_total_filters_and_cursor(tl_env):
    with session_scope() as session:
        for i in range(204):
            alerts.raise_alert(session, domain="monitoring", subject=f"p-{i}", rule="r",
                               severity="high" if i == 3 else "low", title=str(i), evidence={}, now=T0)
        pages, cursor = [], None
        while True:
            page = alerts.page_alerts(session, cursor=cursor, limit=50)
            pages.append(page)
            cursor = page["next_cursor"]
            if cursor is None:
                break
        ids = [a.id for p in pages for a in p["items"]]
        assert len(pages) == 5 and pages[0]["total"] == 204 and len(ids) == len(set(ids)) == 204
        assert ids == sorted(ids, reverse=True)
        high = alerts.page_alerts(session, severity=">=high", status="open")
        assert high["total"] == 1 and high["items"][0].subject == "p-3"
        assert alerts.page_alerts(session, subject="p-7")["total"] == 1
        with pytest.raises(InputError):
            alerts.page_alerts(session, severity="dire")
        with pytest.raises(InputError):
            alerts.page_alerts(session, status="closed")


def test_a_stream_subscriber_is_woken_by_the_commit_not_by_a_poll(tl_env):
    """Push, not poll: the doorbell rings within milliseconds of the commit, long before any poll interval."""
    import asyncio
    import time as clock

    from theralab.runtime.alert_bus import AsyncDoorbell

    async def scenario() -> tuple[bool, float, list[str]]:
        bell = AsyncDoorbell()
        try:
            def commit() -> float:
                with session_scope() as session:
                    _raise(session, 0, "high")
                return clock.perf_counter()

            waiter = asyncio.create_task(bell.wait(timeout=5.0))
            committed = await asyncio.to_thread(commit)
            rang = await waiter
            woke = clock.perf_counter()
            with session_scope() as session:
                events = [e["event"] for e in alerts.announcements_after(session, 0)]
            return rang, woke - committed, events
        finally:
            bell.close()

    rang, delay, events = asyncio.run(scenario())
    assert rang and delay < 0.1 and events == ["raised"]


def test_an_alert_committed_by_another_process_rings_the_doorbell_on_sqlite(tl_env):
    """SQLite has no LISTEN/NOTIFY: the event-id watch must carry another process's alert (e.g. the
    MQTT ingest process) to this process's stream subscribers, not the stream's 2 s safety-net check."""
    import subprocess
    import sys

    from theralab.runtime.alert_bus import BUS, watch_other_processes

    rang = threading.Event()
    token = BUS.subscribe(lambda _items: rang.set())
    try:
        watch_other_processes(tl_env.database_url)
        script = ("from theralab.runtime.db import session_scope\n"
                  "from theralab.runtime import alerts\n"
                  "with session_scope() as s:\n"
                  "    alerts.raise_alert(s, domain='monitoring', subject='p-9', rule='news2', severity='high',\n"
                  "                       title='NEWS2 9', evidence={})\n")
        subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
        assert rang.wait(10), "no ring for an alert committed by another process"
    finally:
        BUS.unsubscribe(token)
