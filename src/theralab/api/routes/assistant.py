"""``/v1/assistant``: the patient's health assistant, questionnaires, triage, scheduling, clinician inbox.

Patients (role ``patient``) talk to the assistant and manage their own appointments and
conversations; the patient id always comes from the account's link, never from the request, so a
patient cannot reach anyone else's data. Clinicians open slots, order examinations, link accounts
to records and work the handover inbox. Every route that touches patient data writes an audit
record with identifiers only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from theralab.api.schemas import RequestModel
from theralab.errors import ForbiddenError
from theralab.monitoring.assistant import Assistant, Intake, conversations, scheduling, triage
from theralab.monitoring.assistant.questionnaires import trend
from theralab.monitoring.assistant.records import list_scores, submit_questionnaire
from theralab.privacy.deps import Principal, SessionDep, require_roles

router = APIRouter(prefix="/assistant", tags=["assistant"])
Patient = Annotated[Principal, Depends(require_roles("patient"))]
Clinician = Annotated[Principal, Depends(require_roles("clinician"))]


def _as(roles: tuple[str, ...], scope: str) -> Any:
    """A caller with one of ``roles`` whose token carries the SMART scope ``scope``."""
    return Annotated[Principal, Depends(require_roles(*roles, scope=scope))]


PatientCommRead, PatientCommWrite = _as(("patient",), "Communication.read"), _as(("patient",), "Communication.write")
PatientQrRead = _as(("patient",), "QuestionnaireResponse.read")
PatientQrWrite = _as(("patient",), "QuestionnaireResponse.write")
PatientApptRead, PatientApptWrite = _as(("patient",), "Appointment.read"), _as(("patient",), "Appointment.write")
ClinicianCommRead = _as(("clinician",), "Communication.read")
ClinicianCommWrite = _as(("clinician",), "Communication.write")
ClinicianOrder, ClinicianLink = _as(("clinician",), "ServiceRequest.write"), _as(("clinician",), "Patient.write")
AnyUser = Annotated[Principal, Depends(require_roles("patient", "clinician", "researcher"))]


class MessageIn(RequestModel):
    """One patient message; no ``conversation_id`` starts a new conversation."""

    conversation_id: str | None = Field(None, max_length=36)
    text: str = Field("", max_length=20000, description="the message (empty and long ones get a safe reply)")


class ReplyOut(BaseModel):
    """The assistant's reply: messages, quick options, crisis resources, triage, handover."""

    conversation_id: str
    state: str
    intent: str | None
    messages: list[str]
    options: list[str]
    crisis: bool
    crisis_resources: list[dict[str, str]]
    triage: dict[str, Any] | None
    answer: dict[str, Any] | None
    handover_id: int | None
    safety: str


class ConversationOut(BaseModel):
    id: str
    state: str
    created_at: str
    updated_at: str


class TurnOut(BaseModel):
    at: str
    role: str
    text: str
    intent: str | None


class QuestionnaireIn(RequestModel):
    instrument: str = Field(description="phq9, phq2, gad7 or gad2")
    answers: list[int | str] = Field(description="one answer per item: 0-3 or the response wording")


class QuestionnaireOut(BaseModel):
    id: int
    score: dict[str, Any]
    alert_id: int | None
    crisis_resources: list[dict[str, str]]
    fhir: dict[str, Any]


class TriageOut(BaseModel):
    level: str
    advice: str
    reasons: list[str]
    red_flags: list[str]
    unanswered: list[str]
    findings: list[str]


class SlotOut(BaseModel):
    id: int
    clinician: str
    start_at: str
    end_at: str
    kind: str
    location: str


class SlotsIn(RequestModel):
    clinician: str = Field(min_length=1, max_length=120)
    start: datetime
    end: datetime
    minutes: int = Field(15, ge=5, le=480)
    kind: str = Field("consultation", min_length=1, max_length=40)
    location: str = Field("", max_length=200)


class AppointmentOut(BaseModel):
    id: int
    patient_id: str
    clinician: str
    start_at: str
    end_at: str
    status: str
    reason: str
    exam_order_id: int | None


class BookIn(RequestModel):
    slot_id: int
    reason: str = Field("", max_length=300)
    exam_order_id: int | None = None


class MoveIn(RequestModel):
    slot_id: int


class ExamOrderIn(RequestModel):
    patient_id: str = Field(min_length=1, max_length=128)
    exam: str = Field(min_length=1, max_length=200)
    slot_kind: str = Field(min_length=1, max_length=40)
    note: str = Field("", max_length=2000)


class ExamOrderOut(BaseModel):
    id: int
    patient_id: str
    exam: str
    slot_kind: str
    status: str


class LinkIn(RequestModel):
    username: str = Field(min_length=1, max_length=120)
    patient_id: str = Field(min_length=1, max_length=128)


class LinkOut(BaseModel):
    username: str
    patient_id: str


class HandoverOut(BaseModel):
    id: int
    conversation_id: str
    username: str
    patient_id: str | None
    reason: str
    priority: str
    status: str
    claimed_by: str | None
    alert_id: int | None
    created_at: str


class ReplyIn(RequestModel):
    text: str = Field(min_length=1, max_length=4000)
    close: bool = False


class Done(BaseModel):
    ok: bool = True


def _own_patient(session: Any, user: Principal) -> str:
    pid = conversations.patient_for(session, user.username)
    if pid is None:
        raise ForbiddenError("your account is not linked to a patient record",
                             hint="ask the clinic to link it (POST /v1/assistant/links, clinician role)")
    return pid


# --- conversation ------------------------------------------------------------------------------------
@router.post("/messages", response_model=ReplyOut)
def post_message(body: MessageIn, user: PatientCommWrite, session: SessionDep) -> dict[str, Any]:
    """Send one message to the assistant and get its reply (the turn is stored)."""
    reply = Assistant(session).handle(user.username, body.text, body.conversation_id)
    user.audit("assistant.message", "AssistantConversation", reply.conversation_id, session=session)
    return reply.to_dict()


@router.get("/conversations", response_model=list[ConversationOut])
def my_conversations(user: PatientCommRead, session: SessionDep) -> list[dict[str, Any]]:
    """The caller's conversations, newest first."""
    return conversations.list_conversations(session, user.username)


@router.get("/conversations/{conversation_id}", response_model=list[TurnOut])
def my_transcript(conversation_id: str, user: PatientCommRead, session: SessionDep) -> list[dict[str, Any]]:
    """One of the caller's conversations, turn by turn."""
    turns = conversations.transcript(session, conversation_id, user.username)
    user.audit("assistant.read", "AssistantConversation", conversation_id, session=session)
    return turns


@router.delete("/conversations/{conversation_id}", response_model=Done)
def delete_my_conversation(conversation_id: str, user: PatientCommWrite, session: SessionDep) -> dict[str, Any]:
    """Delete one of the caller's conversations (messages and handovers go with it)."""
    conversations.delete_conversation(session, conversation_id, user.username)
    user.audit("assistant.delete", "AssistantConversation", conversation_id, session=session)
    return {"ok": True}


# --- questionnaires and triage ------------------------------------------------------------------------
@router.post("/questionnaires", response_model=QuestionnaireOut)
def post_questionnaire(body: QuestionnaireIn, user: PatientQrWrite, session: SessionDep) -> dict[str, Any]:
    """Score and store a completed questionnaire (item 9 > 0 on PHQ-9 alerts a clinician)."""
    pid = _own_patient(session, user)
    out = submit_questionnaire(session, pid, body.instrument, list(body.answers))
    user.audit("assistant.questionnaire", "QuestionnaireResponse", str(out["id"]), session=session)
    return out


@router.get("/questionnaires/trend", response_model=list[dict[str, Any]])
def my_trend(user: PatientQrRead, session: SessionDep, instrument: str = Query("phq9")) -> list[dict[str, Any]]:
    """The caller's totals over time for one instrument."""
    pid = _own_patient(session, user)
    user.audit("assistant.trend", "Patient", pid, session=session)
    return trend(list_scores(session, pid, instrument.lower().replace("-", "")))


@router.post("/triage", response_model=TriageOut)
def post_triage(body: Intake, user: AnyUser) -> dict[str, Any]:
    """Triage one structured intake (nothing stored): emergency / soon / self_care with reasons."""
    return triage(body).to_dict()


# --- scheduling -------------------------------------------------------------------------------------
@router.get("/slots", response_model=list[SlotOut])
def free_slots(user: AnyUser, session: SessionDep, kind: str | None = None, clinician: str | None = None,
               limit: int = Query(20, ge=1, le=200)) -> list[dict[str, Any]]:
    """Free slots, earliest first."""
    return [scheduling.slot_dict(s) for s in scheduling.find_slots(session, kind=kind, clinician=clinician,
                                                                   limit=limit)]


@router.post("/slots", response_model=list[SlotOut])
def open_slots(body: SlotsIn, user: Clinician, session: SessionDep) -> list[dict[str, Any]]:
    """Open slots in a calendar (existing ones are kept)."""
    made = scheduling.add_slots(session, body.clinician, body.start, body.end, minutes=body.minutes, kind=body.kind,
                                location=body.location)
    return [scheduling.slot_dict(s) for s in made]


@router.get("/appointments", response_model=list[AppointmentOut])
def my_appointments(user: PatientApptRead, session: SessionDep) -> list[dict[str, Any]]:
    pid = _own_patient(session, user)
    user.audit("assistant.appointments", "Patient", pid, session=session)
    return [scheduling.appointment_dict(a) for a in scheduling.list_appointments(session, pid)]


@router.post("/appointments", response_model=AppointmentOut, status_code=201)
def book(body: BookIn, user: PatientApptWrite, session: SessionDep) -> dict[str, Any]:
    """Book a free slot (409 when someone else got it first)."""
    pid = _own_patient(session, user)
    if body.exam_order_id is not None:
        appt = scheduling.book_exam(session, body.exam_order_id, body.slot_id, booked_by=user.username,
                                    patient_id=pid)
    else:
        appt = scheduling.book(session, pid, body.slot_id, booked_by=user.username, reason=body.reason)
    user.audit("assistant.book", "Appointment", str(appt.id), session=session)
    return scheduling.appointment_dict(appt)


@router.patch("/appointments/{appointment_id}", response_model=AppointmentOut)
def move(appointment_id: int, body: MoveIn, user: PatientApptWrite, session: SessionDep) -> dict[str, Any]:
    """Move one of the caller's appointments to another free slot."""
    pid = _own_patient(session, user)
    appt = scheduling.reschedule(session, appointment_id, body.slot_id, by=user.username, patient_id=pid)
    user.audit("assistant.move", "Appointment", str(appointment_id), session=session)
    return scheduling.appointment_dict(appt)


@router.delete("/appointments/{appointment_id}", response_model=AppointmentOut)
def cancel(appointment_id: int, user: PatientApptWrite, session: SessionDep) -> dict[str, Any]:
    """Cancel one of the caller's appointments."""
    pid = _own_patient(session, user)
    appt = scheduling.cancel(session, appointment_id, by=user.username, patient_id=pid)
    user.audit("assistant.cancel", "Appointment", str(appointment_id), session=session)
    return scheduling.appointment_dict(appt)


@router.post("/exam-orders", response_model=ExamOrderOut, status_code=201)
def order_exam(body: ExamOrderIn, user: ClinicianOrder, session: SessionDep) -> dict[str, Any]:
    """A clinician requests an examination for a patient under their care; the patient books it."""
    user.require_patient(session, body.patient_id)
    order = scheduling.order_exam(session, body.patient_id, body.exam, slot_kind=body.slot_kind,
                                  requested_by=user.username, note=body.note)
    user.audit("assistant.exam_order", "Patient", body.patient_id, session=session)
    return {"id": order.id, "patient_id": order.patient_id, "exam": order.exam, "slot_kind": order.slot_kind,
            "status": order.status}


# --- clinician side ----------------------------------------------------------------------------------
@router.post("/links", response_model=LinkOut)
def link(body: LinkIn, user: ClinicianLink, session: SessionDep) -> dict[str, Any]:
    """Link a patient account to its record (what makes personal answers and booking possible);
    the clinician must have the patient under their care."""
    user.require_patient(session, body.patient_id)
    conversations.link_patient(session, body.username, body.patient_id, by=user.username)
    user.audit("assistant.link", "Patient", body.patient_id, session=session)
    return {"username": body.username, "patient_id": body.patient_id}


@router.get("/inbox", response_model=list[HandoverOut])
def inbox(user: ClinicianCommRead, session: SessionDep,
          status: str = Query("open", pattern="^(open|claimed|closed|all)$")) -> list[dict[str, Any]]:
    """Handovers waiting for a clinician: emergencies first (patients outside the caller's care teams left out)."""
    items = conversations.inbox(session, status=None if status == "all" else status)
    visible = user.visible_patients(session)
    return [h for h in items if visible is None or not h["patient_id"] or h["patient_id"] in visible]


def _own_handover(session: Any, user: Principal, handover_id: int) -> None:
    """Object-level check: a handover about a patient is open to those who may see the patient."""
    from theralab.monitoring.assistant.tables import Handover

    item = session.get(Handover, handover_id)
    if item is not None and item.patient_id:
        user.require_patient(session, item.patient_id)


@router.get("/inbox/{handover_id}", response_model=list[TurnOut])
def inbox_item(handover_id: int, user: ClinicianCommRead, session: SessionDep) -> list[dict[str, Any]]:
    """The conversation behind a handover."""
    _own_handover(session, user, handover_id)
    turns = conversations.handover_transcript(session, handover_id)
    user.audit("assistant.handover.read", "AssistantHandover", str(handover_id), session=session)
    return turns


@router.post("/inbox/{handover_id}/reply", response_model=Done)
def inbox_reply(handover_id: int, body: ReplyIn, user: ClinicianCommWrite, session: SessionDep) -> dict[str, Any]:
    """Answer the patient in the conversation (``close`` hands it back to the assistant)."""
    _own_handover(session, user, handover_id)
    conversations.clinician_reply(session, handover_id, user.username, body.text, close=body.close)
    user.audit("assistant.handover.reply", "AssistantHandover", str(handover_id), session=session)
    return {"ok": True}
