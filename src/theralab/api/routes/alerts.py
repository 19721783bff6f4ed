"""``/v1/alerts``: the alert inbox (all domains), acknowledgement, escalation, live stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict

from theralab.api.schemas import AlertEventOut, AlertOut
from theralab.privacy.deps import Principal, SessionDep, require_roles
from theralab.runtime import alerts as alert_store
from theralab.runtime.db import session_scope

router = APIRouter(prefix="/alerts", tags=["alerts"])
Clinical = Annotated[Principal, Depends(require_roles("clinician", "researcher"))]
#: An alert id: a positive 64-bit integer (larger ones cannot exist and overflow the database driver).
AlertId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = ""


class Assign(BaseModel):
    model_config = ConfigDict(extra="forbid")
    owner: str


@router.get("", response_model=list[AlertOut])
def list_alerts(user: Clinical, session: SessionDep, domain: str | None = None, subject: str | None = None,
                open_only: bool = False) -> list[dict[str, Any]]:
    """Alerts, newest first."""
    user.audit("alerts.list", "Alert", subject or "")
    return [a.to_dict() for a in alert_store.list_alerts(session, domain=domain, subject=subject,
                                                         open_only=open_only)]


@router.post("/{alert_id}/acknowledge", response_model=AlertOut)
def acknowledge(alert_id: AlertId, body: Note, user: Clinical, session: SessionDep) -> dict[str, Any]:
    """Take responsibility for an alert (stops escalation)."""
    user.audit("alert.acknowledge", "Alert", str(alert_id), session=session)
    return alert_store.acknowledge(session, alert_id, user.username, body.note).to_dict()


@router.post("/{alert_id}/assign", response_model=AlertOut)
def assign(alert_id: AlertId, body: Assign, user: Clinical, session: SessionDep) -> dict[str, Any]:
    """Give an alert an owner."""
    user.audit("alert.assign", "Alert", str(alert_id), session=session)
    return alert_store.assign(session, alert_id, body.owner, user.username).to_dict()


@router.post("/{alert_id}/resolve", response_model=AlertOut)
def resolve(alert_id: AlertId, body: Note, user: Clinical, session: SessionDep) -> dict[str, Any]:
    """Close an alert."""
    user.audit("alert.resolve", "Alert", str(alert_id), session=session)
    return alert_store.resolve(session, alert_id, user.username, body.note).to_dict()


@router.get("/{alert_id}/history", response_model=list[AlertEventOut])
def history(alert_id: AlertId, user: Clinical, session: SessionDep) -> list[dict[str, Any]]:
    """The alert's audit trail."""
    return alert_store.history(session, alert_id)


@router.post("/escalate", response_model=list[AlertOut])
def escalate(user: Annotated[Principal, Depends(require_roles("admin"))], session: SessionDep,
             after_minutes: Annotated[float, Query(ge=0, le=525_600)] = 15.0) -> list[dict[str, Any]]:
    """Escalate alerts unacknowledged for ``after_minutes`` (a scheduler calls this every minute)."""
    return [a.to_dict() for a in alert_store.escalate_due(session, after_minutes)]


@router.get("/stream", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "alerts as they are raised"}})
async def stream(user: Clinical, after_id: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0) -> StreamingResponse:
    """Server-sent events: every new alert as it is raised."""

    def _poll(last: int) -> list[dict[str, Any]]:
        with session_scope() as session:
            return [a.to_dict() for a in alert_store.list_alerts(session, after_id=last)]

    async def events() -> AsyncIterator[str]:
        last = after_id
        while True:
            for alert in await asyncio.to_thread(_poll, last):
                last = max(last, alert["id"])
                yield f"id: {alert['id']}\ndata: {json.dumps(alert)}\n\n"
            await asyncio.sleep(0.5)

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
