"""Append-only audit trail: who did what, when, to which resource, and the outcome.

Records hold identifiers only, never payloads, so the audit table itself contains no patient data.
The ORM exposes no update or delete path for it; on PostgreSQL a migration can add a trigger.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from theralab.privacy.tables import AuditEvent
from theralab.runtime.db import session_scope


def record(
    actor: str,
    action: str,
    *,
    resource_type: str = "",
    resource_id: str = "",
    outcome: str = "ok",
    session: Session | None = None,
) -> None:
    """Append one audit event (in ``session`` when given, else in its own transaction)."""
    event = AuditEvent(
        actor=actor, action=action, resource_type=resource_type, resource_id=str(resource_id), outcome=outcome
    )
    if session is not None:
        session.add(event)
        return
    with session_scope() as own:
        own.add(event)


def recent(session: Session, limit: int = 100) -> list[AuditEvent]:
    """The latest audit events, newest first."""
    return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)))
