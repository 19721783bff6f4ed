"""Virtual health assistant (issue 28): questionnaires, triage, scheduling, conversations.

Public API:

* questionnaires: :func:`score`, :func:`to_fhir`, :func:`trend`, :func:`submit_questionnaire`
* risk: :func:`assess_text`, ``CRISIS_RESOURCES``
* triage: :class:`Intake`, :func:`triage`, :func:`intake_from_text`, ``RED_FLAG_QUESTIONS``
* scheduling: :mod:`theralab.monitoring.assistant.scheduling` (add_slots, find_slots, book, ...)
* conversations: :class:`Assistant` (one turn: ``handle``), :mod:`...conversations` (inbox, delete)
* consent: :func:`has_consent` reads ``theralab.privacy.consent`` (purpose ``assistant``); :func:`set_consent_check`
"""

from __future__ import annotations

from theralab.monitoring.assistant import conversations, scheduling
from theralab.monitoring.assistant.consent import has_consent, set_consent_check
from theralab.monitoring.assistant.dialogue import STATES, Assistant, Reply
from theralab.monitoring.assistant.knowledge import KnowledgeBase, default_kb
from theralab.monitoring.assistant.questionnaires import INSTRUMENTS, score, to_fhir, trend
from theralab.monitoring.assistant.records import list_scores, submit_questionnaire
from theralab.monitoring.assistant.risk import CRISIS_RESOURCES, assess_text
from theralab.monitoring.assistant.triage import RED_FLAG_QUESTIONS, Intake, intake_from_text, triage

__all__ = [
    "CRISIS_RESOURCES", "INSTRUMENTS", "RED_FLAG_QUESTIONS", "STATES", "Assistant", "Intake", "KnowledgeBase",
    "Reply", "assess_text", "conversations", "default_kb", "has_consent", "intake_from_text", "list_scores",
    "scheduling", "score", "set_consent_check", "submit_questionnaire", "to_fhir", "trend", "triage",
]
