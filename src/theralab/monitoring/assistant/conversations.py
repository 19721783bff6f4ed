"""Conversation storage: patient links, messages, handovers (the clinician inbox), deletion.

Why the owner check lives here: every read or delete of a conversation takes the caller's username
and answers "not found" for anyone else's, so no surface can forget it. Deleting removes the
conversation, its messages and handovers (cascade); the surfaces write an audit record that holds
identifiers only.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from theralab.errors import ConflictError, InputError, NotFoundError
from theralab.monitoring.assistant.tables import Conversation, Handover, Message, PatientLink
from theralab.runtime.db import utcnow

PRIORITY_SEVERITY = {"routine": "low", "urgent": "high", "emergency": "critical"}


def link_patient(session: Session, username: str, patient_id: str, *, by: str) -> PatientLink:
    """Record that user ``username`` is patient ``patient_id`` (done by a clinician or an admin)."""
    if not username.strip() or not patient_id.strip():
        raise InputError("username and patient_id are required", where="username")
    link = session.get(PatientLink, username)
    if link is None:
        link = PatientLink(username=username, patient_id=patient_id, linked_by=by)
        session.add(link)
    else:
        link.patient_id, link.linked_by, link.linked_at = patient_id, by, utcnow()
    session.flush()
    return link


def patient_for(session: Session, username: str) -> str | None:
    """The patient id linked to ``username``, or None."""
    link = session.get(PatientLink, username)
    return link.patient_id if link else None


def get_conversation(session: Session, conversation_id: str, username: str) -> Conversation:
    """The caller's conversation; another user's is 'not found' (its existence is not revealed)."""
    conv = session.get(Conversation, conversation_id)
    if conv is None or conv.username != username:
        raise NotFoundError(f"no conversation {conversation_id}", where="conversation_id")
    return conv


def start_conversation(session: Session, username: str) -> Conversation:
    """A new conversation in state ``greeting``."""
    conv = Conversation(id=str(uuid.uuid4()), username=username, patient_id=patient_for(session, username),
                        state="greeting", context={})
    session.add(conv)
    session.flush()
    return conv


def add_message(session: Session, conv: Conversation, role: str, text: str, *, intent: str | None = None,
                meta: dict[str, Any] | None = None) -> Message:
    """Append one turn (text capped at 8,000 characters; the cap is noted in ``meta``)."""
    meta = dict(meta or {})
    if len(text) > 8000:
        meta["truncated_from"] = len(text)
        text = text[:8000]
    msg = Message(conversation_id=conv.id, role=role, text=text, intent=intent, meta=meta)
    session.add(msg)
    conv.updated_at = utcnow()
    session.flush()
    return msg


def transcript(session: Session, conversation_id: str, username: str) -> list[dict[str, Any]]:
    """The caller's conversation, oldest turn first."""
    get_conversation(session, conversation_id, username)
    rows = session.scalars(select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id))
    return [{"at": m.at.isoformat(), "role": m.role, "text": m.text, "intent": m.intent} for m in rows]


def list_conversations(session: Session, username: str) -> list[dict[str, Any]]:
    """The caller's conversations, newest first."""
    rows = session.scalars(select(Conversation).where(Conversation.username == username)
                           .order_by(Conversation.updated_at.desc()))
    return [{"id": c.id, "state": c.state, "created_at": c.created_at.isoformat(),
             "updated_at": c.updated_at.isoformat()} for c in rows]


def delete_conversation(session: Session, conversation_id: str, username: str) -> None:
    """Delete the caller's conversation with its messages and handovers."""
    get_conversation(session, conversation_id, username)
    session.execute(delete(Message).where(Message.conversation_id == conversation_id))
    session.execute(delete(Handover).where(Handover.conversation_id == conversation_id))
    session.execute(delete(Conversation).where(Conversation.id == conversation_id))
    session.flush()


def create_handover(session: Session, conv: Conversation, reason: str, *, priority: str = "routine") -> Handover:
    """Hand the conversation to a human: an inbox item plus a project alert for its priority."""
    from theralab.runtime.alerts import raise_alert

    if priority not in PRIORITY_SEVERITY:
        raise InputError(f"unknown priority {priority!r}", where="priority")
    order = list(PRIORITY_SEVERITY)
    existing = session.scalar(select(Handover).where(Handover.conversation_id == conv.id,
                                                     Handover.status != "closed").order_by(Handover.id.desc()))
    if existing is not None and order.index(priority) <= order.index(existing.priority):
        conv.state = "handover"
        return existing  # one open handover per conversation; a lower or equal priority adds nothing
    subject = conv.patient_id or f"user:{conv.username}"
    alert, _ = raise_alert(session, domain="assistant", subject=subject, rule=f"handover-{priority}",
                           severity=PRIORITY_SEVERITY[priority], title=f"Assistant handover ({priority}): {reason}",
                           evidence={"conversation_id": conv.id}, dedup_key=f"assistant:handover:{conv.id}")
    if existing is not None:  # raise the priority of the open handover instead of opening a second
        existing.priority, existing.reason, existing.alert_id = priority, reason[:200], alert.id
        conv.state = "handover"
        session.flush()
        return existing
    item = Handover(conversation_id=conv.id, username=conv.username, patient_id=conv.patient_id, reason=reason[:200],
                    priority=priority, alert_id=alert.id)
    session.add(item)
    conv.state = "handover"
    session.flush()
    return item


def inbox(session: Session, *, status: str | None = "open", limit: int = 100) -> list[dict[str, Any]]:
    """Handovers for clinicians: emergencies first, then oldest first."""
    query = select(Handover)
    if status:
        query = query.where(Handover.status == status)
    order = {"emergency": 0, "urgent": 1, "routine": 2}
    items = sorted(session.scalars(query.limit(limit)), key=lambda h: (order.get(h.priority, 3), h.id))
    return [{"id": h.id, "conversation_id": h.conversation_id, "username": h.username, "patient_id": h.patient_id,
             "reason": h.reason, "priority": h.priority, "status": h.status, "claimed_by": h.claimed_by,
             "alert_id": h.alert_id, "created_at": h.created_at.isoformat()} for h in items]


def handover_transcript(session: Session, handover_id: int) -> list[dict[str, Any]]:
    """A clinician reads the conversation behind a handover."""
    item = session.get(Handover, handover_id)
    if item is None:
        raise NotFoundError(f"no handover {handover_id}", where="handover_id")
    rows = session.scalars(select(Message).where(Message.conversation_id == item.conversation_id)
                           .order_by(Message.id))
    return [{"at": m.at.isoformat(), "role": m.role, "text": m.text, "intent": m.intent} for m in rows]


def clinician_reply(session: Session, handover_id: int, clinician: str, text: str, *, close: bool = False) -> None:
    """A clinician answers in the conversation (claims the handover; ``close`` ends it)."""
    item = session.get(Handover, handover_id)
    if item is None:
        raise NotFoundError(f"no handover {handover_id}", where="handover_id")
    if item.status == "closed":
        raise ConflictError(f"handover {handover_id} is closed")
    if not text.strip():
        raise InputError("reply is empty", where="text")
    conv = session.get(Conversation, item.conversation_id)
    assert conv is not None  # cascade keeps them together
    add_message(session, conv, "clinician", f"{clinician}: {text.strip()}")
    item.claimed_by = item.claimed_by or clinician
    item.status = "closed" if close else "claimed"
    if close:
        conv.state = "intent"
    session.flush()
