"""Audit (issue 18 part 4): refused requests and CLI reads audited, hash chain, tamper evidence, no injection."""

from __future__ import annotations

import json

from sqlalchemy import select, text

from theralab.privacy import audit
from theralab.privacy.tables import AuditEvent
from theralab.runtime.db import get_engine, session_scope


def _events(**where):
    with session_scope() as session:
        query = select(AuditEvent).order_by(AuditEvent.id)
        for key, value in where.items():
            query = query.where(getattr(AuditEvent, key) == value)
        return session.scalars(query).all()


def test_refused_requests_are_audited_with_route_and_patient(api):
    pat = api.login("pat")
    assert api.get("/v1/ehr/patients/p-17", headers=pat).status_code == 403
    assert api.get("/v1/ehr/patients/p-17").status_code == 401
    assert api.post("/v1/pgx/call", headers={"Authorization": "Bearer forged.token.here"}).status_code == 401
    denied = _events(outcome="denied")
    actions = [(e.actor, e.action, e.patient_id) for e in denied]
    assert ("pat", "GET /v1/ehr/patients/{patient_id}", "p-17") in actions
    assert ("anonymous", "GET /v1/ehr/patients/{patient_id}", "p-17") in actions
    assert any(e.actor == "anonymous" and e.action == "POST /v1/pgx/call" for e in denied)
    assert all(e.source == "testclient" and e.at.tzinfo is not None for e in denied)


def test_cli_patient_reads_are_audited(tl_env):
    from typer.testing import CliRunner

    from theralab.cli.main import app

    result = CliRunner().invoke(app, ["ehr", "show", "nobody"])
    assert result.exit_code != 0
    result = CliRunner().invoke(app, ["ehr", "patients"])
    assert result.exit_code == 0, result.output
    events = _events(channel="cli")
    assert [(e.action, e.outcome) for e in events] == [("ehr.read", "not-found"), ("ehr.list", "ok")]
    assert events[0].patient_id == "nobody" and events[0].actor.startswith("os:")


def test_chain_verifies_and_detects_tampering(tl_env):
    for i in range(5):
        audit.record("doc", "ehr.read", resource_type="Patient", resource_id=f"p{i}", patient_id=f"p{i}")
    result = audit.verify()
    assert result.ok and result.checked == 5 and result.unsealed == 0
    # the database refuses edits and deletes of sealed events ...
    engine = get_engine()
    for statement in ("UPDATE audit_events SET actor='mallory' WHERE seq=3", "DELETE FROM audit_events WHERE seq=2"):
        try:
            with engine.begin() as conn:
                conn.execute(text(statement))
            raise AssertionError(f"{statement} was allowed")
        except Exception as exc:  # noqa: BLE001
            assert "append-only" in str(exc)
    # ... and someone who drops the trigger to edit one is caught by the chain
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_events_no_update"))
        conn.execute(text("UPDATE audit_events SET resource_id='p9' WHERE seq=3"))
    broken = audit.verify()
    assert not broken.ok and broken.first_bad_seq == 3 and broken.checked == 2
    from typer.testing import CliRunner

    from theralab.cli.main import app

    out = CliRunner().invoke(app, ["audit", "verify"])
    assert out.exit_code == 1 and "BROKEN" in out.output


def test_deleting_an_event_breaks_the_chain(tl_env):
    for i in range(4):
        audit.record("doc", "ehr.read", resource_id=f"p{i}")
    engine = get_engine()
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_events_no_delete"))
        conn.execute(text("DELETE FROM audit_events WHERE seq=2"))
    broken = audit.verify()
    assert not broken.ok and broken.first_bad_seq == 2 and "missing" in broken.reason


def test_log_injection_is_impossible(api, tmp_path):
    evil = "mallory\n2026-01-01 root auth.login ok\r\x1b[2J"
    resp = api.post("/v1/auth/token", data={"username": evil, "password": "x"})
    assert resp.status_code == 401
    event = _events(action="auth.login")[-1]
    assert "\n" not in event.actor and "\r" not in event.actor and "\x1b" not in event.actor
    assert event.actor.startswith("mallory ") and event.outcome == "denied"
    from typer.testing import CliRunner

    from theralab.cli.main import app

    out = tmp_path / "audit.ndjson"
    result = CliRunner().invoke(app, ["audit", "export", "-o", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    resources = [json.loads(line) for line in lines]
    assert len(lines) == len(_events()) and all(r["resourceType"] == "AuditEvent" for r in resources)
    assert audit.verify().ok


def test_fhir_shape_has_no_payload(tl_env):
    audit.record("doc", "ehr.read", resource_type="Patient", resource_id="p1", patient_id="p1", source="10.0.0.7")
    with session_scope() as session:
        event = audit.recent(session, 1)[0]
    fhir = audit.to_fhir(event)
    assert fhir["outcome"] == "0" and fhir["agent"][0]["network"]["address"] == "10.0.0.7"
    assert fhir["entity"][0]["what"]["reference"] == "Patient/p1"
    assert fhir["recorded"].endswith("+00:00")


def test_refused_web_credentials_are_audited(api):
    api.cookies.set("theralab_token", "forged.cookie.value")
    resp = api.get("/ehr", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login")
    event = _events(outcome="denied")[-1]
    assert (event.actor, event.action, event.channel) == ("anonymous", "GET /ehr", "web")
