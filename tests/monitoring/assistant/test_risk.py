"""Free-text risk cues: each category, conservative negation, escalation to the project alerts."""

from __future__ import annotations

import pytest

from theralab.monitoring.assistant.risk import CRISIS_MESSAGE, assess_text

POSITIVE = [
    ("I want to kill myself", "suicidal_intent", "critical"),
    ("I've been thinking about suicide", "suicidal_intent", "critical"),
    ("sometimes I think everyone would be better off dead without me", "suicidal_intent", "critical"),
    ("I don't want to wake up tomorrow", "suicidal_intent", "critical"),
    ("I want to end it all", "suicidal_intent", "critical"),
    ("I have been cutting myself again", "self_harm", "critical"),
    ("I keep wanting to hurt myself", "self_harm", "critical"),
    ("everything feels hopeless", "hopelessness", "high"),
    ("I feel worthless and trapped", "hopelessness", "high"),
    ("I can't go on like this", "hopelessness", "high"),
]


@pytest.mark.parametrize("text,category,severity", POSITIVE)
def test_cues_found(text, category, severity):
    result = assess_text(text)
    assert result.escalate
    assert category in {c.category for c in result.cues}
    assert result.severity == severity


@pytest.mark.parametrize("text", ["I would never hurt myself", "I'm not suicidal", "I don't want to die",
                                  "no thoughts of self-harm"])
def test_negated_cues_still_escalate_one_step_lower(text):
    result = assess_text(text)
    assert result.escalate, text
    assert all(c.negated for c in result.cues)
    assert result.severity == "high"


@pytest.mark.parametrize("text", ["I have a headache since yesterday", "book an appointment please",
                                  "my cough is better", "what is the dose of paracetamol", ""])
def test_no_cue_in_ordinary_text(text):
    assert not assess_text(text).escalate


def test_crisis_message_names_resources():
    assert "988" in CRISIS_MESSAGE and "116 123" in CRISIS_MESSAGE and "emergency" in CRISIS_MESSAGE


def test_item9_submission_raises_alert_and_stores_fhir(assistant_db):
    from theralab.monitoring.assistant.records import list_scores, submit_questionnaire
    from theralab.runtime.alerts import list_alerts
    from theralab.runtime.db import session_scope

    with session_scope() as s:
        out = submit_questionnaire(s, "p-9", "phq9", [0, 0, 0, 0, 0, 0, 0, 0, 1])
        assert out["score"]["total"] == 1 and out["score"]["band"] == "minimal"
        assert out["alert_id"] is not None and out["crisis_resources"]
        calm = submit_questionnaire(s, "p-9", "gad7", [1] * 7)
        assert calm["alert_id"] is None and calm["crisis_resources"] == []
    with session_scope() as s:
        alerts = list_alerts(s, domain="assistant", subject="p-9")
        assert [(a.rule, a.severity) for a in alerts] == [("phq9-item9", "critical")]
        assert "item" not in str(alerts[0].evidence[0].keys() - {"item9"})  # scores only, no text
        assert [x.total for x in list_scores(s, "p-9", "phq9")] == [1]
