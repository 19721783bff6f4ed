"""The shared alert life cycle: dedup, suppression, acknowledgement, escalation, history, webhook."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

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
