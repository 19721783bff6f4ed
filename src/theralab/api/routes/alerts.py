"""``/v1/alerts``: the alert inbox (all domains), acknowledgement, escalation, live stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi import Path as PathParam
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from theralab.api.schemas import AlertEventOut, AlertOut, RequestModel
from theralab.privacy.deps import Principal, SessionDep, require_roles
from theralab.runtime import alerts as alert_store
from theralab.runtime.db import session_scope

router = APIRouter(prefix="/alerts", tags=["alerts"])
Clinical = Annotated[Principal, Depends(require_roles("clinician", "researcher", scope="Flag.read"))]
Handler = Annotated[Principal, Depends(require_roles("clinician", "researcher", scope="Flag.write"))]
#: An alert id: a positive 64-bit integer (larger ones cannot exist and overflow the database driver).
AlertId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]


class Note(RequestModel):
    note: str = ""


class Assign(RequestModel):
    owner: str


class AlertPage(BaseModel):
    """One page of the inbox: newest first, the total that match the filters, the next cursor."""

    items: list[dict[str, Any]]
    total: int
    next_cursor: int | None = Field(description="pass as ?cursor= for the next page; null on the last page")
    limit: int


def _hidden_patients(session: Any, user: Principal) -> Any:
    """A query of the patient ids the caller may not see (None: sees all): alerts about them are hidden.

    Those are known patients outside the caller's care teams, and subjects of monitoring alerts
    (always a patient, perhaps one known only by its device) outside them.
    """
    from sqlalchemy import select, union

    from theralab.ehr.tables import PatientRow

    visible = user.visible_patients(session)
    if visible is None:
        return None
    ids = list(visible)
    return union(select(PatientRow.id).where(PatientRow.id.not_in(ids)),
                 select(alert_store.Alert.subject).where(alert_store.Alert.domain == "monitoring",
                                                         alert_store.Alert.subject.not_in(ids)))


def _own_alert(session: Any, user: Principal, alert_id: int) -> None:
    """Object-level check: an alert about a patient is open only to those who may see the patient."""

    from theralab.ehr.tables import PatientRow

    alert = session.get(alert_store.Alert, alert_id)
    if alert is not None and (alert.domain == "monitoring" or session.get(PatientRow, alert.subject) is not None):
        user.require_patient(session, alert.subject)


@router.get("", response_model=AlertPage)
def list_alerts(
    user: Clinical, session: SessionDep, domain: str | None = None, subject: str | None = None,
    open_only: bool = False,
    severity: Annotated[str | None, Query(description="info|low|medium|high|critical, or '>=high'")] = None,
    status: Annotated[str | None, Query(description="open (all open states)|acknowledged|escalated|resolved")] = None,
    cursor: Annotated[int | None, Query(ge=1, description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> AlertPage:
    """Alerts, newest first, one page at a time, with the total that match the filters."""
    user.audit("alerts.list", "Alert", subject or "")
    page = alert_store.page_alerts(session, domain=domain, subject=subject, severity=severity, status=status,
                                   open_only=open_only, cursor=cursor, limit=limit,
                                   hidden_subjects=_hidden_patients(session, user))
    return AlertPage(items=[a.to_dict() for a in page["items"]], total=page["total"],
                     next_cursor=page["next_cursor"], limit=limit)


@router.post("/{alert_id}/acknowledge", response_model=AlertOut)
def acknowledge(alert_id: AlertId, body: Note, user: Handler, session: SessionDep) -> dict[str, Any]:
    """Take responsibility for an alert (stops escalation)."""
    _own_alert(session, user, alert_id)
    user.audit("alert.acknowledge", "Alert", str(alert_id), session=session)
    return alert_store.acknowledge(session, alert_id, user.username, body.note).to_dict()


@router.post("/{alert_id}/assign", response_model=AlertOut)
def assign(alert_id: AlertId, body: Assign, user: Handler, session: SessionDep) -> dict[str, Any]:
    """Give an alert an owner."""
    _own_alert(session, user, alert_id)
    user.audit("alert.assign", "Alert", str(alert_id), session=session)
    return alert_store.assign(session, alert_id, body.owner, user.username).to_dict()


@router.post("/{alert_id}/resolve", response_model=AlertOut)
def resolve(alert_id: AlertId, body: Note, user: Handler, session: SessionDep) -> dict[str, Any]:
    """Close an alert."""
    _own_alert(session, user, alert_id)
    user.audit("alert.resolve", "Alert", str(alert_id), session=session)
    return alert_store.resolve(session, alert_id, user.username, body.note).to_dict()


@router.get("/{alert_id}/history", response_model=list[AlertEventOut])
def history(alert_id: AlertId, user: Clinical, session: SessionDep) -> list[dict[str, Any]]:
    """The alert's audit trail."""
    _own_alert(session, user, alert_id)
    return alert_store.history(session, alert_id)


@router.post("/escalate", response_model=list[AlertOut])
def escalate(user: Annotated[Principal, Depends(require_roles("admin", scope="Flag.write"))], session: SessionDep,
             after_minutes: Annotated[float, Query(ge=0, le=525_600)] = 15.0) -> list[dict[str, Any]]:
    """Escalate alerts unacknowledged for ``after_minutes`` (a scheduler calls this every minute)."""
    return [a.to_dict() for a in alert_store.escalate_due(session, after_minutes)]


STREAM_FALLBACK_S = 2.0  # safety net: re-check the database this often even without a doorbell


@router.get("/stream", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "alerts as they are announced"}})
async def stream(
    user: Clinical,
    after_id: Annotated[int, Query(ge=0, le=2**63 - 1, description="event id to start after (0: the start)")] = 0,
    domain: str | None = None,
    last_event_id: Annotated[int | None, Header(ge=0, le=2**63 - 1, description="sent on reconnect")] = None,
) -> StreamingResponse:
    """Server-sent events: every announcement (raised, re-opened, severity raised, escalated).

    Pushed when the transaction that announces commits (an in-process doorbell; across processes,
    PostgreSQL LISTEN/NOTIFY or, on SQLite, a 25 ms watch of the newest event id), read from the
    database so nothing is missed: each event's ``id`` is its event id, and a client reconnecting
    with ``Last-Event-ID`` resumes there.
    """
    from theralab.runtime.alert_bus import AsyncDoorbell, watch_other_processes
    from theralab.settings import get_settings

    watch_other_processes(get_settings().database_url)

    def _after(last: int) -> list[dict[str, Any]]:
        from sqlalchemy import select

        from theralab.ehr.tables import PatientRow

        with session_scope() as session:
            items = alert_store.announcements_after(session, last, domain=domain)
            visible = user.visible_patients(session)
            if visible is None or not items:
                return items
            subjects = {i["subject"] for i in items} - visible
            hidden = set(session.scalars(select(PatientRow.id).where(PatientRow.id.in_(subjects))))
            hidden |= {i["subject"] for i in items if i.get("domain") == "monitoring"} - visible
            return [i for i in items if i["subject"] not in hidden]

    async def events() -> AsyncIterator[str]:
        bell = AsyncDoorbell()  # subscribe before the first read, so no commit falls in between
        last = last_event_id or after_id
        try:
            yield ": connected\n\n"
            while True:
                for item in await asyncio.to_thread(_after, last):
                    last = item["event_id"]
                    yield f"id: {last}\ndata: {json.dumps(item)}\n\n"
                await bell.wait(STREAM_FALLBACK_S)
        finally:
            bell.close()

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
