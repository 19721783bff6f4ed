"""Append-only, hash-chained audit trail modelled on FHIR AuditEvent / IHE Basic Audit Log Patterns.

Each event says who (``actor``), from where (``channel`` api|web|cli and ``source``: the network
address or host), what (``action``), to which patient and resource (identifiers only, never a
payload), when (UTC) and the ``outcome`` (ok, denied, not-found, error).

Why a hash chain, and why sealing is a separate step: events are inserted inside the request's own
transaction (so SQLite never sees two writers in one request), and several requests commit in any
order. :func:`seal` therefore numbers the committed, unsealed events in id order under a lock and
sets ``hash = sha256(prev_hash + canonical event)``, ``seq`` and ``prev_hash``. Database triggers
(migration ``0006_trust``) refuse deletes and any update except that one-time sealing, and
:func:`verify` recomputes the whole chain: an edited, deleted or re-ordered sealed event breaks it.

Log injection: every text field is cleaned (control characters such as CR/LF removed, length
capped) before it is stored, and the chain hashes a canonical JSON form, so a crafted user name
can neither forge a second line in an export nor collide with another event.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import re
import socket
import threading
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from theralab.privacy.tables import AuditEvent
from theralab.runtime.db import session_scope

log = logging.getLogger(__name__)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_seal_lock = threading.Lock()
GENESIS = "0" * 64

#: FHIR AuditEvent.outcome codes for our outcomes.
FHIR_OUTCOME = {"ok": "0", "not-found": "4", "denied": "8", "error": "8"}


def clean(value: Any, limit: int = 200) -> str:
    """``value`` as one printable line: control characters replaced by a space, length capped."""
    text = _CONTROL.sub(" ", str(value if value is not None else ""))
    return text[:limit]


def record(
    actor: str,
    action: str,
    *,
    resource_type: str = "",
    resource_id: str = "",
    outcome: str = "ok",
    patient_id: str = "",
    channel: str = "api",
    source: str = "",
    session: Session | None = None,
) -> None:
    """Append one audit event (in ``session`` when given, else in its own transaction, then sealed)."""
    event = AuditEvent(
        actor=clean(actor, 120), action=clean(action, 120), resource_type=clean(resource_type, 80),
        resource_id=clean(resource_id, 200), outcome=clean(outcome, 40), patient_id=clean(patient_id, 120),
        channel=clean(channel, 20), source=clean(source, 120),
    )
    if session is not None:
        session.add(event)
        return
    with session_scope() as own:
        own.add(event)
    seal()


def record_cli(action: str, *, resource_type: str = "", resource_id: str = "", patient_id: str = "",
               outcome: str = "ok") -> None:
    """Audit a command-line access: the operating-system user on this host."""
    try:
        who = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        who = "unknown"
    record(f"os:{who}", action, resource_type=resource_type, resource_id=resource_id, patient_id=patient_id,
           outcome=outcome, channel="cli", source=socket.gethostname())


def canonical(event: AuditEvent) -> str:
    """The fields the chain protects, as canonical JSON (sorted keys, no whitespace)."""
    at = event.at.astimezone(UTC).isoformat(timespec="microseconds") if event.at else ""
    return json.dumps({
        "id": event.id, "at": at, "actor": event.actor, "action": event.action,
        "resource_type": event.resource_type, "resource_id": event.resource_id, "outcome": event.outcome,
        "patient_id": event.patient_id, "channel": event.channel, "source": event.source, "seq": event.seq,
    }, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def chain_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + canonical(event)).encode()).hexdigest()


def seal() -> int:
    """Chain every committed, unsealed event (in id order); returns how many were sealed.

    Another process sealing the same events at the same moment makes this one fail (unique ``seq``,
    or the trigger refusing to re-seal): that is harmless, the events are sealed once, so the
    failure is logged and the next call carries on.
    """
    try:
        return _seal()
    except SQLAlchemyError as exc:
        log.info("audit sealing deferred: %s", exc)
        return 0


def _seal() -> int:
    with _seal_lock, session_scope() as session:
        pending = list(session.scalars(select(AuditEvent).where(AuditEvent.seq.is_(None)).order_by(AuditEvent.id)))
        if not pending:
            return 0
        last_seq = session.scalar(select(func.max(AuditEvent.seq))) or 0
        prev = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == last_seq)) if last_seq else None
        prev = prev or GENESIS
        for offset, event in enumerate(pending, start=1):
            event.seq = last_seq + offset
            event.prev_hash = prev
            event.hash = chain_hash(prev, event)
            prev = event.hash
        return len(pending)


@dataclass
class Verification:
    ok: bool
    checked: int
    unsealed: int
    first_bad_seq: int | None = None
    reason: str = ""


def verify(session: Session | None = None) -> Verification:
    """Recompute the chain over every sealed event; report the first break (edit, gap or re-order)."""
    if session is None:
        seal()
        with session_scope() as own:
            return verify(own)
    prev, expected_seq, checked = GENESIS, 1, 0
    for event in session.scalars(select(AuditEvent).where(AuditEvent.seq.is_not(None)).order_by(AuditEvent.seq)):
        if event.seq != expected_seq:
            return Verification(False, checked, 0, expected_seq, f"event seq {expected_seq} is missing")
        if event.prev_hash != prev:
            return Verification(False, checked, 0, event.seq, "prev_hash does not match the previous event")
        if chain_hash(prev, event) != event.hash:
            return Verification(False, checked, 0, event.seq, "the event was altered after it was sealed")
        prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    unsealed = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.seq.is_(None))) or 0
    return Verification(True, checked, int(unsealed))


def to_fhir(event: AuditEvent) -> dict[str, Any]:
    """The event as a FHIR R4 AuditEvent resource (identifiers only)."""
    entity = []
    if event.patient_id:
        entity.append({"what": {"reference": f"Patient/{event.patient_id}"},
                       "role": {"code": "1", "display": "Patient"}})
    if event.resource_id:
        entity.append({"what": {"identifier": {"value": event.resource_id}}, "name": event.resource_type or None})
    return {
        "resourceType": "AuditEvent",
        "id": str(event.id),
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest"},
        "subtype": [{"code": event.action}],
        "recorded": event.at.astimezone(UTC).isoformat() if event.at else None,
        "outcome": FHIR_OUTCOME.get(event.outcome, "4"),
        "outcomeDesc": event.outcome,
        "agent": [{"who": {"display": event.actor}, "requestor": True,
                   "network": {"address": event.source} if event.source else None}],
        "source": {"observer": {"display": f"theralab-{event.channel or 'api'}"}},
        "entity": entity,
    }


def recent(session: Session, limit: int = 100) -> list[AuditEvent]:
    """The latest audit events, newest first."""
    return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)))
