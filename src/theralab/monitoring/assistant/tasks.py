"""Slot-filling tasks of the dialogue: symptom check, questionnaire, booking, moving, cancelling.

Each task is a function ``(engine, ctx, text) -> list[str]`` that reads the next answer, stores it in
the conversation context ``ctx`` and asks the next question, or finishes. Why small functions on a
plain dict: the context is stored as JSON with the conversation, so a chat survives a restart and a
clinician can read exactly where it stood.
"""

from __future__ import annotations

import re
from typing import Any

from theralab.errors import ConflictError, InputError, TheralabError
from theralab.monitoring.assistant import scheduling as sch
from theralab.monitoring.assistant.findings import duration_hours, severity_score
from theralab.monitoring.assistant.questionnaires import OPTIONS, get_instrument, parse_answer, score
from theralab.monitoring.assistant.triage import RED_FLAG_QUESTIONS, Intake, triage

#: The dialogue engine (:class:`theralab.monitoring.assistant.dialogue.Assistant`) that calls these
#: tasks; typed loosely so this module never imports the engine that imports it.
Assistant = Any

YES = re.compile(r"^\s*(y|yes|yeah|yep|yup|sure|correct|i\s+do|i\s+have|it\s+is|they\s+are|ja|oui|si)\b", re.I)
NO = re.compile(r"^\s*(n|no|nope|nah|not\s+really|i\s+don'?t|i\s+haven'?t|none|never)\b", re.I)


def yes_no(text: str) -> bool | None:
    """True / False for a yes / no answer, None when it is neither."""
    if YES.search(text):
        return True
    if NO.search(text):
        return False
    return None


def choice(text: str, n: int) -> int | None:
    """A 1-based choice among ``n`` options as a 0-based index, or None."""
    m = re.match(r"^\s*(?:option\s*|number\s*|#)?(\d{1,2})\b", text, re.I)
    if m and 1 <= int(m.group(1)) <= n:
        return int(m.group(1)) - 1
    return None


# --- symptom check ----------------------------------------------------------------------------------
def symptom(engine: Assistant, ctx: dict[str, Any], text: str) -> list[str]:
    """complaint -> age (unless known) -> duration -> severity -> each unanswered red flag -> result."""
    step = ctx.get("step", "complaint")
    if step == "complaint":
        ctx["complaint"] = text.strip()
        return _next_symptom_step(engine, ctx)
    if step == "age":
        m = re.search(r"\b(\d{1,3})\b", text)
        if not m or int(m.group(1)) > 120:
            return ["Please tell me the age in years as a number (for a baby under one, type 0)."]
        ctx["age"] = int(m.group(1))
    elif step == "duration":
        ctx["duration_hours"] = duration_hours(text)
        ctx["duration_text"] = text.strip()[:100]
    elif step == "severity":
        m = re.search(r"\b(10|\d)\b", text)
        sev = int(m.group(1)) if m else severity_score(text)
        if sev is None:
            return ["Please give a number from 0 (no discomfort) to 10 (the worst you can imagine)."]
        ctx["severity"] = sev
    elif step.startswith("flag:"):
        qid = step[5:]
        answer = yes_no(text)
        if answer is None:
            return [f"Please answer yes or no: {RED_FLAG_QUESTIONS[qid]}"]
        ctx.setdefault("answers", {})[qid] = answer
        if answer and qid == "suicidal":  # crisis resources first, clinician alerted, then the triage
            return engine.crisis("suicidal-intent") + engine.finish_triage(ctx)
        if answer:  # red flags always win: stop asking and give the emergency answer now
            return engine.finish_triage(ctx)
    return _next_symptom_step(engine, ctx)


def _intake(ctx: dict[str, Any]) -> Intake:
    return Intake(complaint=ctx.get("complaint") or "-", details=ctx.get("duration_text", ""), age=ctx.get("age"),
                  duration_hours=ctx.get("duration_hours"), severity=ctx.get("severity"),
                  answers=ctx.get("answers", {}))


def _next_symptom_step(engine: Assistant, ctx: dict[str, Any]) -> list[str]:
    if not ctx.get("complaint"):
        ctx["step"] = "complaint"
        return ["What is the main symptom or problem? Describe it in your own words."]
    result = triage(_intake(ctx))
    if result.level == "emergency":
        return engine.finish_triage(ctx)
    if ctx.get("age") is None:
        ctx["step"] = "age"
        return ["How old are you (or the person you are asking for)?"]
    if "duration_hours" not in ctx:
        ctx["step"] = "duration"
        return ["When did it start, or how long has it been going on? (for example: since this morning, 3 days)"]
    if "severity" not in ctx:
        ctx["step"] = "severity"
        return ["How bad is it, from 0 (no discomfort) to 10 (the worst you can imagine)?"]
    if result.unanswered:
        qid = result.unanswered[0]
        ctx["step"] = f"flag:{qid}"
        return [f"{RED_FLAG_QUESTIONS[qid]} (yes / no)"]
    return engine.finish_triage(ctx)


# --- questionnaires ----------------------------------------------------------------------------------
def pick_instrument(text: str) -> str | None:
    """Instrument named or implied by ``text``."""
    low = text.lower().replace(" ", "").replace("-", "")
    for key in ("phq9", "phq2", "gad7", "gad2"):
        if key in low:
            return key
    if "depress" in low or "mood" in low:
        return "phq9"
    if "anx" in low or "worry" in low:
        return "gad7"
    return None


def item_question(key: str, i: int) -> str:
    inst = get_instrument(key)
    opts = ", ".join(f"{n} = {o}" for n, o in enumerate(OPTIONS))
    return (f"{inst.title} question {i + 1} of {len(inst.items)}. Over the last 2 weeks, how often have you been "
            f"bothered by: {inst.items[i]}? ({opts})")


def questionnaire(engine: Assistant, ctx: dict[str, Any], text: str) -> list[str]:
    """instrument -> each item (nonsense answers re-asked) -> score, store, trend, escalate."""
    key = ctx.get("instrument")
    if key is None:
        key = pick_instrument(text)
        if key is None:
            return ["Which questionnaire: PHQ-9 (depression), GAD-7 (anxiety), PHQ-2 or GAD-2 (short screens)?"]
        ctx["instrument"], ctx["answers"] = key, []
        return [item_question(key, 0)]
    answers: list[int] = ctx.setdefault("answers", [])
    try:
        value = parse_answer(text.strip(), item=len(answers) + 1)
    except InputError as exc:
        return [f"I didn't understand that answer. {exc.hint}.", item_question(key, len(answers))]
    answers.append(value)
    out: list[str] = []
    if key == "phq9" and len(answers) == 9 and value > 0:
        out += engine.crisis("phq9-item9", show_first=True)
    n_items = len(get_instrument(key).items)
    if len(answers) < n_items:
        return out + [item_question(key, len(answers))]
    return out + engine.finish_questionnaire(key, answers)


def preview_score(key: str, answers: list[int]) -> str:
    """One line with the total and band (used when the score is not stored)."""
    s = score(key, answers)
    return f"{get_instrument(key).title}: {s.total} / {get_instrument(key).max_score} ({s.band})."


# --- scheduling --------------------------------------------------------------------------------------
def _fmt(start: str, who: str) -> str:
    return f"{start[:16].replace('T', ' ')} UTC with {who}"


def booking(engine: Assistant, ctx: dict[str, Any], text: str) -> list[str]:
    """(exam order or consultation) -> slot choice -> confirmation handled by the engine."""
    pid = engine.patient_id
    s = engine.session
    if ctx.get("step") == "what":
        orders = ctx["orders"]
        idx = choice(text, len(orders) + 1)
        if idx is None:
            return [f"Please answer with a number from 1 to {len(orders) + 1}."]
        ctx["order_id"] = orders[idx]["id"] if idx < len(orders) else None
        ctx["kind"] = orders[idx]["kind"] if idx < len(orders) else "consultation"
        return _offer_slots(engine, ctx)
    if ctx.get("step") == "slot":
        return _confirm_slot(engine, ctx, text, "Book")
    orders = [{"id": o.id, "exam": o.exam, "kind": o.slot_kind} for o in sch.open_exam_orders(s, pid)]
    if orders:
        ctx["orders"], ctx["step"] = orders, "what"
        lines = [f"{i + 1}. {o['exam']} (requested by your clinician)" for i, o in enumerate(orders)]
        return ["What would you like to book?", *lines, f"{len(orders) + 1}. an ordinary consultation"]
    ctx["kind"], ctx["order_id"] = "consultation", None
    return _offer_slots(engine, ctx)


def _confirm_slot(engine: Assistant, ctx: dict[str, Any], text: str, verb: str) -> list[str]:
    """The patient picked one of the offered slots by number: ask to confirm ``verb`` it."""
    idx = choice(text, len(ctx["slots"]))
    if idx is None:
        return [f"Please pick a number from 1 to {len(ctx['slots'])}, or say 'stop'."]
    slot = ctx["slots"][idx]
    ctx["slot_id"] = slot["id"]
    return engine.confirm(ctx, f"{verb} {_fmt(slot['start_at'], slot['clinician'])}?")


def _offer_slots(engine: Assistant, ctx: dict[str, Any]) -> list[str]:
    slots = [sch.slot_dict(x) for x in sch.find_slots(engine.session, kind=ctx["kind"], limit=5)]
    if not slots:
        engine.end_task()
        return ["There are no free slots at the moment. Say 'talk to a human' and the clinic will contact you."]
    ctx["slots"], ctx["step"] = slots, "slot"
    return ["These slots are free:", *[f"{i + 1}. {_fmt(x['start_at'], x['clinician'])}" for i, x in enumerate(slots)],
            "Which number would you like?"]


def pick_appointment(engine: Assistant, ctx: dict[str, Any], text: str, verb: str) -> list[str]:
    """Choose one of the patient's appointments (to move or cancel)."""
    if ctx.get("step") != "which":
        appts = [sch.appointment_dict(a) for a in sch.list_appointments(engine.session, engine.patient_id)]
        if not appts:
            engine.end_task()
            return ["You have no upcoming appointments."]
        ctx["appointments"], ctx["step"] = appts, "which"
        return [f"Which appointment would you like to {verb}?",
                *[f"{i + 1}. {_fmt(a['start_at'], a['clinician'])}{' - ' + a['reason'] if a['reason'] else ''}"
                  for i, a in enumerate(appts)]]
    idx = choice(text, len(ctx["appointments"]))
    if idx is None:
        return [f"Please pick a number from 1 to {len(ctx['appointments'])}, or say 'stop'."]
    appt = ctx["appointments"][idx]
    ctx["appointment_id"] = appt["id"]
    if verb == "cancel":
        return engine.confirm(ctx, f"Cancel your appointment {_fmt(appt['start_at'], appt['clinician'])}?")
    slot = engine.session.get(sch.Slot, appt_slot_id(engine, appt["id"]))
    ctx["kind"] = slot.kind if slot else "consultation"
    ctx["step"] = "slot"
    return _offer_slots(engine, ctx)


def appt_slot_id(engine: Assistant, appointment_id: int) -> int | None:
    appt = engine.session.get(sch.Appointment, appointment_id)
    return appt.last_slot_id if appt else None


def move(engine: Assistant, ctx: dict[str, Any], text: str) -> list[str]:
    if ctx.get("step") == "slot":
        return _confirm_slot(engine, ctx, text, "Move it to")
    return pick_appointment(engine, ctx, text, "move")


def execute(engine: Assistant, ctx: dict[str, Any]) -> list[str]:
    """Carry out a confirmed booking, move or cancellation."""
    s, pid, user = engine.session, engine.patient_id, engine.username
    try:
        if ctx["task"] == "book":
            if ctx.get("order_id"):
                appt = sch.book_exam(s, ctx["order_id"], ctx["slot_id"], booked_by=user, patient_id=pid)
            else:
                appt = sch.book(s, pid, ctx["slot_id"], booked_by=user, reason="booked via assistant")
            return [f"Booked: {_fmt(appt.start_at.isoformat(), appt.clinician)}. I'll remind you 24 hours and "
                    "2 hours before."]
        if ctx["task"] == "move":
            appt = sch.reschedule(s, ctx["appointment_id"], ctx["slot_id"], by=user, patient_id=pid)
            return [f"Moved: your appointment is now {_fmt(appt.start_at.isoformat(), appt.clinician)}."]
        sch.cancel(s, ctx["appointment_id"], by=user, patient_id=pid)
        return ["Cancelled. The slot is free for someone else."]
    except ConflictError as exc:
        return [f"Sorry, that did not work: {exc.message}. Say 'book an appointment' to see free slots again."]
    except TheralabError as exc:
        return [f"Sorry, that did not work: {exc.message}."]


TASKS = {"symptom": symptom, "questionnaire": questionnaire, "book": booking, "move": move,
         "cancel": lambda engine, ctx, text: pick_appointment(engine, ctx, text, "cancel")}
