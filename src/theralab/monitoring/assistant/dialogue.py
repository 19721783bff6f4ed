"""The dialogue manager: explicit states, the safety layer first, intents, slot filling, handover.

States: ``greeting`` (new conversation) -> ``identify`` (resolved from the login: linked to a patient
record or anonymous) -> ``intent`` -> ``slot_filling`` (a task asks its questions) ->
``confirmation`` (a yes/no before anything is booked, moved or cancelled) -> back to ``intent``;
``handover`` when a human takes over. Order of checks on every message, whatever the state:
(1) risk cues (crisis resources first, clinician alert), (2) input safety (empty, too long,
injection, someone else's data, non-English), (3) the emergency red-flag sweep on symptom text,
then (4) the state's own handling. Patient data are always looked up with the id linked to the
login, never with anything the message says.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from theralab.errors import TheralabError
from theralab.monitoring.assistant import conversations as conv_store
from theralab.monitoring.assistant import tasks
from theralab.monitoring.assistant.consent import has_consent
from theralab.monitoring.assistant.intents import classify
from theralab.monitoring.assistant.knowledge import KnowledgeBase, default_kb
from theralab.monitoring.assistant.llm import Phraser, phrase_safely
from theralab.monitoring.assistant.risk import CRISIS_MESSAGE, CRISIS_RESOURCES, assess_text, escalate
from theralab.monitoring.assistant.safety import check_input
from theralab.monitoring.assistant.triage import intake_from_text, triage

STATES = ("greeting", "identify", "intent", "slot_filling", "confirmation", "handover")
MENU = ["ask a health question", "check a symptom", "fill in a questionnaire", "my results", "my medications",
        "book an appointment", "move an appointment", "cancel an appointment", "talk to a human"]
STOP = re.compile(r"^\s*(stop|quit|exit|never\s*mind|menu|start\s+over|abort)\b", re.I)
_GENERAL_Q = re.compile(r"^\s*(what|how|why|when|which|who|does|do|can|should|is|are)\b", re.I)
_FIRST_PERSON = re.compile(r"\b(i|i'm|i've|me|my|mine)\b", re.I)
TASK_OF_INTENT = {"symptom_check": "symptom", "questionnaire": "questionnaire", "book_appointment": "book",
                  "move_appointment": "move", "cancel_appointment": "cancel"}
NEEDS_RECORD = ("my_results", "my_medications", "book_appointment", "move_appointment", "cancel_appointment")


@dataclass
class Reply:
    """What the assistant says back, with everything a surface needs to show it."""

    conversation_id: str
    state: str
    intent: str | None
    messages: list[str]
    options: list[str] = field(default_factory=list)
    crisis: bool = False
    crisis_resources: list[dict[str, str]] = field(default_factory=list)
    triage: dict[str, Any] | None = None
    answer: dict[str, Any] | None = None
    handover_id: int | None = None
    safety: str = "ok"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Assistant:
    """One turn at a time: ``Assistant(session).handle(username, text, conversation_id)``."""

    def __init__(self, session: Session, *, kb: KnowledgeBase | None = None, phraser: Phraser | None = None,
                 record_loader: Any = None) -> None:
        self.session = session
        self.kb = kb or default_kb()
        self.phraser = phraser
        self._load_record = record_loader
        self.username = ""
        self.patient_id: str | None = None
        self.conv: Any = None
        self.reply: Reply | None = None

    # -- helpers used by tasks ------------------------------------------------------------------------
    def record(self) -> Any | None:
        """The logged-in patient's own record (None when anonymous, absent or without consent)."""
        if self.patient_id is None or not has_consent(self.session, self.patient_id, "assistant.personalise"):
            return None
        loader = self._load_record
        if loader is None:
            from theralab.ehr.patients import load_patient as loader
        try:
            return loader(self.session, self.patient_id)
        except TheralabError:
            return None

    def crisis(self, reason: str, *, show_first: bool = True) -> list[str]:
        """Crisis resources now, a critical clinician alert and an urgent handover."""
        assert self.reply is not None
        subject = self.patient_id or f"user:{self.username}"
        escalate(self.session, patient_id=subject, reason=reason, severity="critical",
                 evidence={"conversation_id": self.conv.id})
        if self.reply.handover_id is None:
            self.reply.handover_id = conv_store.create_handover(self.session, self.conv, reason, priority="urgent").id
        self.reply.crisis, self.reply.crisis_resources = True, list(CRISIS_RESOURCES)
        return [CRISIS_MESSAGE]

    def confirm(self, ctx: dict[str, Any], question: str) -> list[str]:
        self.conv.state = "confirmation"
        assert self.reply is not None
        self.reply.options = ["yes", "no"]
        return [f"{question} (yes / no)"]

    def end_task(self) -> None:
        self.conv.state, self.conv.context = "intent", {}

    def finish_triage(self, ctx: dict[str, Any]) -> list[str]:
        result = triage(tasks._intake(ctx))
        assert self.reply is not None
        self.reply.triage = result.to_dict()
        self.end_task()
        lines = [f"Triage: {result.level.replace('_', ' ')}. {result.advice}", "Why: " + "; ".join(result.reasons)]
        if result.level == "emergency":
            self.reply.handover_id = conv_store.create_handover(self.session, self.conv, "emergency triage: "
                                                                + ", ".join(result.red_flags), priority="emergency").id
            lines.append("I have also told the care team.")
        elif result.level == "soon":
            self.reply.options = ["book an appointment"]
        lines.append("This is not a diagnosis.")
        return lines

    def finish_questionnaire(self, key: str, answers: list[int]) -> list[str]:
        from theralab.monitoring.assistant.questionnaires import trend
        from theralab.monitoring.assistant.records import list_scores, submit_questionnaire

        self.end_task()
        if self.patient_id is None:
            return [tasks.preview_score(key, answers) + " (not stored: your account is not linked to a record)."]
        out = submit_questionnaire(self.session, self.patient_id, key, answers)
        s = out["score"]
        lines = [tasks.preview_score(key, answers)]
        history = trend(list_scores(self.session, self.patient_id, key))
        if len(history) > 1:
            last = history[-1]
            lines.append(f"Change since last time: {last['change']:+d}"
                         + (f" (meaningfully {last['meaningful']})" if last["meaningful"] else "") + ".")
        if s["notes"]:
            lines += s["notes"]
        if s["total"] >= 10 and not s["protocol"]:
            lines.append("A score this high is worth talking through with a clinician; say 'book an appointment'.")
        return lines

    # -- the turn -------------------------------------------------------------------------------------
    def handle(self, username: str, text: str | None, conversation_id: str | None = None) -> Reply:
        """Process one patient message and return the reply (all turns are stored)."""
        self.username = username
        conv = (conv_store.get_conversation(self.session, conversation_id, username) if conversation_id
                else conv_store.start_conversation(self.session, username))
        self.conv = conv
        self.patient_id = conv_store.patient_for(self.session, username)
        conv.patient_id = self.patient_id
        self.reply = Reply(conv.id, conv.state, None, [])
        raw = text or ""
        conv_store.add_message(self.session, conv, "patient", raw)
        messages = self._turn(raw)
        self.reply.messages = messages
        self.reply.state = conv.state
        flag_modified(conv, "context")
        conv_store.add_message(self.session, conv, "assistant", "\n".join(messages), intent=self.reply.intent,
                               meta={"safety": self.reply.safety, "crisis": self.reply.crisis,
                                     "triage": (self.reply.triage or {}).get("level")})
        return self.reply

    def _turn(self, text: str) -> list[str]:
        reply, conv = self.reply, self.conv
        assert reply is not None
        risk = assess_text(text[:20000])
        if risk.escalate:
            reply.safety = "risk"
            return self.crisis("free-text-risk")
        check = check_input(text)
        if check.kind == "too_long":  # too long to process, not too long to notice an emergency in it
            emergency = self._red_flag_sweep(text[:4000])
            if emergency:
                return emergency
        if check.block:
            reply.safety = check.kind
            if check.kind == "non_english":
                reply.options = ["talk to a human"]
            return [check.block]
        if conv.state == "handover":
            return ["Your message has been passed to the care team; a clinician will reply here. If it is an "
                    "emergency, call 112 / 911 / 999 now."]
        emergency = self._red_flag_sweep(text)
        if emergency:
            return emergency
        greeting: list[str] = []
        if conv.state == "greeting":
            conv.state = "identify"
            greeting = self._identify()
            if classify(text).intent == "greeting":
                reply.options = MENU
                return greeting
        if conv.state in ("slot_filling", "confirmation") and STOP.search(text):
            self.end_task()
            reply.options = MENU
            return ["Stopped. What would you like to do?"]
        if conv.state == "confirmation":
            return greeting + self._confirmation(text)
        if conv.state == "slot_filling":
            ctx = copy.deepcopy(conv.context)  # a fresh object, so the JSON column sees every change
            out = tasks.TASKS[ctx["task"]](self, ctx, text)
            if conv.state in ("slot_filling", "confirmation"):
                conv.context = ctx
            return greeting + out
        return greeting + self._intent(text)

    def _identify(self) -> list[str]:
        if self.patient_id:
            return ["Hello, I'm the theralab health assistant. You're signed in, so I can use your own record "
                    "to tailor answers. I'm not a doctor; in an emergency call 112 / 911 / 999."]
        return ["Hello, I'm the theralab health assistant. Your account isn't linked to a patient record, so I "
                "can answer general questions and check symptoms; ask the clinic to link it for results and "
                "appointments. I'm not a doctor; in an emergency call 112 / 911 / 999."]

    def _red_flag_sweep(self, text: str) -> list[str] | None:
        """Emergency symptoms in any message win over whatever the conversation was doing."""
        if self.conv.state in ("slot_filling", "confirmation") and len(text.split()) <= 3:
            return None  # short answers ("2", "yes", "3 days") are the task's to read
        if _GENERAL_Q.search(text) and not _FIRST_PERSON.search(text):
            return None  # a general question ("what causes chest pain?") is not a symptom report
        rec = self.record()
        age = rec.age_at() if rec is not None else None
        result = triage(intake_from_text(text[:4000], age=age))
        if result.level != "emergency" or not result.red_flags:
            return None
        self.end_task()
        assert self.reply is not None
        self.reply.triage = result.to_dict()
        self.reply.intent = "symptom_check"
        self.reply.handover_id = conv_store.create_handover(self.session, self.conv, "emergency red flag: "
                                                            + ", ".join(result.red_flags), priority="emergency").id
        self.conv.state = "handover"
        return [f"This could be an emergency ({'; '.join(result.reasons)}). {result.advice}",
                "I have told the care team. This is not a diagnosis."]

    def _confirmation(self, text: str) -> list[str]:
        ctx = copy.deepcopy(self.conv.context)
        answer = tasks.yes_no(text)
        if answer is None:
            assert self.reply is not None
            self.reply.options = ["yes", "no"]
            return ["Please answer yes or no."]
        self.end_task()
        if not answer:
            return ["OK, nothing was changed."]
        return tasks.execute(self, ctx)

    def _intent(self, text: str) -> list[str]:
        reply, conv = self.reply, self.conv
        assert reply is not None
        conv.state = "intent"
        found = classify(text)
        reply.intent = found.intent
        if found.intent == "unknown":
            reply.options = MENU
            return ["I'm not sure what you need. You can choose one of these, or rephrase."]
        if found.intent == "greeting":
            reply.options = MENU
            return ["Hello again. What can I do for you?"]
        if found.intent == "goodbye":
            return ["Take care. You can come back any time."]
        if found.intent == "talk_to_human":
            reply.handover_id = conv_store.create_handover(self.session, conv, "patient asked for a human").id
            return ["I've asked the care team to take over; a clinician will reply here. If it is an emergency, "
                    "call 112 / 911 / 999 now."]
        if found.intent in NEEDS_RECORD and self.patient_id is None:
            return ["I need your account to be linked to your patient record for that. Ask the clinic to link it, "
                    "or say 'talk to a human'."]
        if found.intent == "health_question":
            return self._health_answer(text)
        if found.intent in ("my_results", "my_medications"):
            return self._own_record(found.intent)
        task = TASK_OF_INTENT[found.intent]
        ctx: dict[str, Any] = {"task": task}
        conv.state = "slot_filling"
        if task == "symptom":
            stripped = re.sub(r"(?i)\b(symptom\s+check\w*|check\s+my\s+symptoms)\b", "", text).strip(" .,:;!?-")
            if len(stripped.split()) >= 2:
                ctx["complaint"] = stripped
            rec = self.record()
            if rec is not None and rec.age_at() is not None:
                ctx["age"] = rec.age_at()  # known from the record: not asked
            out = tasks._next_symptom_step(self, ctx)
        elif task == "questionnaire":
            out = tasks.questionnaire(self, ctx, text)
        else:
            out = tasks.TASKS[task](self, ctx, text)
        if conv.state in ("slot_filling", "confirmation"):
            conv.context = ctx
        return out

    def _health_answer(self, text: str) -> list[str]:
        assert self.reply is not None
        answer = self.kb.answer(text, self.record())
        self.reply.answer = answer.to_dict()
        if not answer.known:
            self.reply.options = ["talk to a human"]
            return [answer.text()]
        assert answer.entry is not None
        body, used = phrase_safely(self.phraser, text, answer.entry.answer)
        self.reply.answer["llm"] = used
        src = answer.entry
        return [body, *answer.personal,
                f"Source: {src.source} ({src.url}), reviewed {src.reviewed.isoformat()}."]

    def _own_record(self, intent: str) -> list[str]:
        rec = self.record()
        if rec is None:
            return ["I couldn't open your record (it may not be imported yet, or consent is missing). "
                    "Say 'talk to a human' for help."]
        if intent == "my_medications":
            meds = rec.active_medications()
            if not meds:
                return ["Your record lists no current medications."]
            return ["Your current medications:", *[f"- {m.display or m.code}" + (f" ({m.dosage})" if m.dosage else "")
                                                   for m in meds[:20]]]
        latest = sorted(rec.latest_values().values(), key=lambda o: o.effective.isoformat() if o.effective else "",
                        reverse=True)[:10]
        lines = ["Your latest results:"] + [
            f"- {o.display or o.code}: {o.value if o.value is not None else o.value_text} {o.unit or ''}".rstrip()
            + (f" ({o.effective.date().isoformat()})" if o.effective else "") for o in latest]
        lines += [f"- {g.gene}: {g.phenotype or g.diplotype}" for g in rec.genotypes]
        return lines if len(lines) > 1 else ["Your record has no results yet."]
