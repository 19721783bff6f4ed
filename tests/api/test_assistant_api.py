"""``/v1/assistant`` through the full app: roles, audit without payload, chat, questionnaires, booking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select


def _audit_rows():
    from theralab.privacy.tables import AuditEvent
    from theralab.runtime.db import session_scope

    with session_scope() as s:
        return [(e.actor, e.action, e.resource_id) for e in s.scalars(select(AuditEvent))]


def test_chat_crisis_inbox_and_delete(api):
    pat, doc, res = api.login("pat"), api.login("doc"), api.login("res")
    assert api.post("/v1/assistant/messages", json={"text": "hi"}).status_code == 401
    assert api.post("/v1/assistant/messages", json={"text": "hi"}, headers=res).status_code == 403
    r = api.post("/v1/assistant/messages", json={"text": "hello"}, headers=pat)
    assert r.status_code == 200, r.text
    cid = r.json()["conversation_id"]
    assert r.json()["state"] == "identify"
    # bad input: empty -> safe reply; too long / unknown field -> 422, never 500
    empty = api.post("/v1/assistant/messages", json={"text": "", "conversation_id": cid}, headers=pat).json()
    assert empty["safety"] == "empty"
    assert api.post("/v1/assistant/messages", json={"text": "x" * 20001}, headers=pat).status_code == 422
    assert api.post("/v1/assistant/messages", json={"text": "x", "role": "admin"}, headers=pat).status_code == 422
    r = api.post("/v1/assistant/messages", json={"text": "I want to end my life", "conversation_id": cid},
                 headers=pat).json()
    assert r["crisis"] and any("988" in c["contact"] for c in r["crisis_resources"])
    # someone else's conversation id is simply not found
    assert api.post("/v1/assistant/messages", json={"text": "hi", "conversation_id": "nope"},
                    headers=pat).status_code == 404
    inbox = api.get("/v1/assistant/inbox", headers=doc).json()
    assert [i["priority"] for i in inbox] == ["urgent"] and inbox[0]["conversation_id"] == cid
    assert api.get("/v1/assistant/inbox", headers=pat).status_code == 403
    turns = api.get(f"/v1/assistant/inbox/{inbox[0]['id']}", headers=doc).json()
    assert turns[-2]["text"] == "I want to end my life"
    ok = api.post(f"/v1/assistant/inbox/{inbox[0]['id']}/reply", json={"text": "I'll call you now."}, headers=doc)
    assert ok.status_code == 200
    mine = api.get(f"/v1/assistant/conversations/{cid}", headers=pat).json()
    assert mine[-1]["role"] == "clinician"
    assert [c["id"] for c in api.get("/v1/assistant/conversations", headers=pat).json()] == [cid]
    assert api.delete(f"/v1/assistant/conversations/{cid}", headers=pat).status_code == 200
    assert api.get(f"/v1/assistant/conversations/{cid}", headers=pat).status_code == 404
    audit = _audit_rows()
    assert ("pat", "assistant.delete", cid) in audit
    assert ("doc", "assistant.handover.read", str(inbox[0]["id"])) in audit
    # audit holds identifiers only
    from theralab.privacy.tables import AuditEvent
    from theralab.runtime.db import session_scope

    with session_scope() as s:
        dumped = " ".join(str(e.__dict__) for e in s.scalars(select(AuditEvent)))
    assert "end my life" not in dumped


def test_questionnaire_triage_and_scheduling(api):
    from theralab.privacy.auth import create_user
    from theralab.runtime.db import session_scope

    with session_scope() as s:
        create_user(s, "pat2", "password-pat2", ["patient"])
    pat, pat2, doc = api.login("pat"), api.login("pat2"), api.login("doc")
    q = {"instrument": "phq9", "answers": [1, 1, 1, 1, 1, 0, 0, 0, 2]}
    assert api.post("/v1/assistant/questionnaires", json=q, headers=pat).status_code == 403  # not linked
    for user, pid in (("pat", "p-1"), ("pat2", "p-2")):
        linked = api.post("/v1/assistant/links", json={"username": user, "patient_id": pid}, headers=doc)
        assert linked.status_code == 200
    r = api.post("/v1/assistant/questionnaires", json=q, headers=pat)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["score"]["total"] == 7 and body["score"]["protocol"] == "suicide-risk" and body["alert_id"]
    assert body["fhir"]["resourceType"] == "QuestionnaireResponse"
    bad = api.post("/v1/assistant/questionnaires", json={"instrument": "gad7", "answers": [0, 0, 0, 9, 0, 0, 0]},
                   headers=pat)
    assert bad.status_code == 422 and bad.json()["where"] == "item 4"
    assert [t["total"] for t in api.get("/v1/assistant/questionnaires/trend", headers=pat).json()] == [7]
    t = api.post("/v1/assistant/triage", json={"complaint": "crushing chest pain with sweating", "age": 61},
                 headers=pat).json()
    assert t["level"] == "emergency" and "chest_pain_risk" in t["red_flags"]
    assert api.post("/v1/assistant/triage", json={"complaint": "x", "answers": {"bogus": True}},
                    headers=pat).status_code == 422
    start = (datetime.now(UTC) + timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    slots = api.post("/v1/assistant/slots", json={"clinician": "dr-a", "start": start.isoformat(),
                                                  "end": (start + timedelta(minutes=45)).isoformat()}, headers=doc)
    assert slots.status_code == 200 and len(slots.json()) == 3
    assert api.post("/v1/assistant/slots", json={"clinician": "x", "start": start.isoformat(),
                                                 "end": start.isoformat()}, headers=pat).status_code == 403
    ids = [s["id"] for s in slots.json()]
    booked = api.post("/v1/assistant/appointments", json={"slot_id": ids[0]}, headers=pat)
    assert booked.status_code == 201 and booked.json()["patient_id"] == "p-1"
    assert api.post("/v1/assistant/appointments", json={"slot_id": ids[0]}, headers=pat2).status_code == 409
    aid = booked.json()["id"]
    assert api.patch(f"/v1/assistant/appointments/{aid}", json={"slot_id": ids[1]}, headers=pat2).status_code == 404
    moved = api.patch(f"/v1/assistant/appointments/{aid}", json={"slot_id": ids[1]}, headers=pat)
    assert moved.status_code == 200 and moved.json()["start_at"] == slots.json()[1]["start_at"]
    assert api.delete(f"/v1/assistant/appointments/{aid}", headers=pat).json()["status"] == "cancelled"
    assert api.get("/v1/assistant/appointments", headers=pat).json() == []
    order = api.post("/v1/assistant/exam-orders",
                     json={"patient_id": "p-2", "exam": "ECG", "slot_kind": "consultation"}, headers=doc).json()
    exam = api.post("/v1/assistant/appointments", json={"slot_id": ids[2], "exam_order_id": order["id"]}, headers=pat2)
    assert exam.status_code == 201 and exam.json()["reason"] == "ECG"
    assert len(api.get("/v1/assistant/slots", headers=pat).json()) == 2
    assert api.get("/v1/assistant/slots?limit=0", headers=pat).status_code == 422
