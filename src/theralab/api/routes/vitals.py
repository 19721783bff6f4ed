"""``/v1/observations`` and ``/v1/devices``: streamed vital signs over HTTP, and the ward view.

Devices authenticate with their own token (``X-Device-Id`` and ``X-Device-Token`` headers), not a
user login: a wearable has no user. Reading patient data back needs the clinician or researcher
role and is audited.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from theralab.api.schemas import DeviceOut, OpenResult, ReadingOut, RequestModel
from theralab.errors import AuthError, InputError
from theralab.monitoring.streams import (
    Ingestor,
    authenticate_device,
    ingest_totals,
    parse_payload,
    quarantine,
    readings_frame,
    register_device,
)
from theralab.privacy.deps import Principal, SessionDep, require_roles
from theralab.runtime.db import session_scope

router = APIRouter(tags=["monitoring streams"])
Clinical = Annotated[Principal, Depends(require_roles("clinician", "researcher", scope="Observation.read"))]
DeviceAdmin = Annotated[Principal, Depends(require_roles("clinician", "researcher", scope="Device.write"))]


@lru_cache(maxsize=1)
def get_ingestor() -> Ingestor:
    """One ingestor (and one flood limiter) per server process."""
    return Ingestor()


class DeviceCreate(RequestModel):

    device_id: str
    patient_id: str
    kind: str = "wearable"
    location: str | None = Field(None, max_length=120, description="where it is, e.g. 'Ward 7A, bed 3'")


@router.post("/devices", status_code=201, response_model=DeviceOut)
def add_device(body: DeviceCreate, user: DeviceAdmin, session: SessionDep) -> dict[str, str]:
    """Register a device (with its bed or location) for a patient under the caller's care; the token is
    returned once."""
    user.require_patient(session, body.patient_id)
    token = register_device(session, body.device_id, body.patient_id, body.kind, body.location)
    user.audit("device.register", "Device", body.device_id, session=session)
    return {"device_id": body.device_id, "patient_id": body.patient_id, "token": token}


def device_credentials(
    x_device_id: Annotated[str | None, Header(max_length=200)] = None,
    x_device_token: Annotated[str | None, Header(max_length=200)] = None,
) -> tuple[str, str]:
    """The device's id and token; a 401 (before the body is read) when either is missing."""
    if not x_device_id or not x_device_token:
        raise AuthError("a device must send X-Device-Id and X-Device-Token",
                        hint="register the device with POST /v1/devices to get its token")
    return x_device_id, x_device_token


@router.post("/observations", response_model=OpenResult,
             responses={429: {"description": "flood limit: retry after Retry-After seconds"}})
def post_observations(
    session: SessionDep,
    payload: Annotated[Any, Body(description="FHIR Observation/Bundle or {device_id, readings: [...]}")],
    credentials: Annotated[tuple[str, str], Depends(device_credentials)],
) -> JSONResponse:
    """Ingest one message or batch from a device. Returns what was stored, deduplicated, quarantined."""
    x_device_id, x_device_token = credentials
    device = authenticate_device(session, x_device_id, x_device_token)
    session.expunge(device)
    try:
        readings = parse_payload(payload, x_device_id)
    except InputError as exc:  # the whole message breaks its schema: keep it with why, answer 422
        with session_scope() as qsession:
            quarantine(qsession, device_id=device.id, raw=json.dumps(payload, default=str)[:500],
                       reason=f"malformed payload: {exc.message}", source="http")
        raise
    report = get_ingestor().ingest(readings, device=device, source="http")
    body = report.to_dict()
    if readings and report.accepted == 0 and all("flood" in q["reason"] for q in report.quarantined):
        return JSONResponse(body, status_code=429, headers={"Retry-After": "1"})
    return JSONResponse(body, status_code=200)


@router.get("/observations", response_model=list[ReadingOut])
def get_observations(
    patient_id: str, user: Clinical, session: SessionDep, code: str | None = None,
    start: datetime | None = None, end: datetime | None = None,
) -> list[dict[str, Any]]:
    """A patient's stored readings, optionally one code and a time range."""
    user.require_patient(session, patient_id)
    user.audit("observations.read", "Patient", patient_id)
    return readings_frame(session, patient_id, code, start, end)


@router.get("/observations/news2-history", response_model=list[OpenResult])
def news2_history(
    patient_id: str, user: Clinical, session: SessionDep, start: datetime | None = None, end: datetime | None = None,
) -> list[dict[str, Any]]:
    """Every value each streamed NEWS2 time point took, with when it was computed (what was known when)."""
    from theralab.monitoring.streams.rules import score_history

    user.require_patient(session, patient_id)
    user.audit("observations.news2_history", "Patient", patient_id)
    return score_history(session, patient_id, start, end)


class IngestStats(BaseModel):
    """Totals per transport from the database (every process), and this server's own counters."""

    by_source: dict[str, dict[str, int]]
    this_process: dict[str, int]


@router.get("/ingest/stats", response_model=IngestStats)
def ingest_stats(user: Clinical, session: SessionDep) -> IngestStats:
    """Readings stored and quarantined per transport (HTTP, MQTT, computed scores), plus this server's counters."""
    return IngestStats(by_source=ingest_totals(session), this_process=dict(get_ingestor().counters))
