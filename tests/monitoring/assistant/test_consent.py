"""The assistant reads the patient's recorded consent (purpose ``assistant``) at every use."""

from __future__ import annotations

import pytest

from theralab.errors import ForbiddenError
from theralab.monitoring.assistant import has_consent, submit_questionnaire
from theralab.privacy import consent
from theralab.runtime.db import session_scope

QUESTION = "does my genotype affect clopidogrel?"


def _decide(granted: bool) -> None:
    with session_scope() as s:
        consent.record(s, "pa-1", "assistant", granted, "doc", note="asked in clinic")


def test_a_withdrawn_consent_takes_effect_at_once(world, chat):
    ann = chat("ann")
    assert "Poor Metabolizer" in "\n".join(ann.say(QUESTION).messages)  # opt-out: allowed until withdrawn
    _decide(False)
    # the very next message, in the same conversation: no personal data, general answer only
    reply = "\n".join(ann.say(QUESTION).messages)
    assert "Poor Metabolizer" not in reply and "CYP2C19" in reply
    with session_scope() as s:
        assert not has_consent(s, "pa-1", "assistant.personalise")
        with pytest.raises(ForbiddenError):
            submit_questionnaire(s, "pa-1", "phq9", [0] * 9)
    _decide(True)
    assert "Poor Metabolizer" in "\n".join(ann.say(QUESTION).messages)
    with session_scope() as s:
        assert submit_questionnaire(s, "pa-1", "phq9", [0] * 9)["score"]["total"] == 0


def test_opt_in_sites_need_a_recorded_grant(world, chat, monkeypatch):
    monkeypatch.setenv("THERALAB_CONSENT_MODE", "opt-in")
    assert "Poor Metabolizer" not in "\n".join(chat("ann").say(QUESTION).messages)
    _decide(True)
    assert "Poor Metabolizer" in "\n".join(chat("ann").say(QUESTION).messages)
