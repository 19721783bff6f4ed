"""The conversation engine end to end: states, intents, answers, tasks, safety and storage."""

from __future__ import annotations

from theralab.monitoring.assistant.triage import RED_FLAG_QUESTIONS
from theralab.runtime.db import session_scope


def _text(reply) -> str:
    return "\n".join(reply.messages)


def test_greeting_identify_and_menu(world, chat):
    anon, ann = chat("stranger"), chat("ann")
    r = anon.say("hello")
    assert r.state == "identify" and "isn't linked" in _text(r) and "book an appointment" in r.options
    r = ann.say("hi")
    assert "signed in" in _text(r)
    r = anon.say("show my results")
    assert "linked to your patient record" in _text(r)


def test_health_question_with_source_personalised(world, chat):
    r = chat("ann").say("does my genotype affect clopidogrel?")
    text = _text(r)
    assert r.intent == "health_question" and r.answer["known"]
    assert "CYP2C19" in text and "Poor Metabolizer" in text and "clopidogrel 75 MG" in text
    assert "reviewed 2026-11-30" in text and "cpicpgx.org" in text
    # the same question anonymously: general answer only
    anon = _text(chat("stranger").say("does my genotype affect clopidogrel?"))
    assert "Poor Metabolizer" not in anon and "CYP2C19" in anon


def test_unknown_question_says_i_dont_know(world, chat):
    r = chat("ann").say("what is the best treatment for quantum entanglement of the spleen?")
    assert "I don't know" in _text(r) and "talk to a human" in r.options
    assert r.answer["known"] is False


def test_symptom_check_self_care_asks_every_red_flag(world, chat):
    c = chat("stranger")
    r = c.say("I have a mild sore throat")
    assert r.state == "slot_filling" and "How old" in _text(r)
    c.say("25")
    c.say("since yesterday")
    r = c.say("2")
    asked = []
    for _ in range(len(RED_FLAG_QUESTIONS)):
        asked.append(r.messages[-1])
        if r.state != "slot_filling":
            break
        r = c.say("no")
    assert len(asked) == len(RED_FLAG_QUESTIONS)
    assert r.triage["level"] == "self_care" and r.state == "intent"


def test_red_flag_yes_is_emergency_at_once(world, chat):
    c = chat("ann")
    c.say("symptom check: I feel dizzy")
    c.say("since this morning")
    r = c.say("4")
    assert "chest pain" in _text(r).lower()
    r = c.say("yes")
    assert r.triage["level"] == "emergency" and r.handover_id is not None
    assert "emergency" in _text(r).lower()


def test_emergency_sweep_beats_any_state(world, chat):
    c = chat("ann")
    c.say("book an appointment")
    r = c.say("my face is drooping on one side and my speech is slurred")
    assert r.triage["level"] == "emergency" and "stroke_fast" in r.triage["red_flags"]
    assert r.state == "handover"
    from theralab.monitoring.assistant.conversations import inbox

    with session_scope() as s:
        assert [i["priority"] for i in inbox(s)] == ["emergency"]


def test_general_question_about_symptom_is_answered_not_triaged(world, chat):
    r = chat("ann").say("what causes chest pain?")
    assert r.triage is None and r.answer["known"]


def test_questionnaire_via_chat_nonsense_then_item9(world, chat):
    from theralab.monitoring.assistant.records import list_scores
    from theralab.runtime.alerts import list_alerts

    c = chat("ann")
    r = c.say("I'd like to do the PHQ-9 questionnaire")
    assert "question 1 of 9" in _text(r)
    r = c.say("banana")
    assert "didn't understand" in _text(r) and "question 1 of 9" in _text(r)
    for answer in ["1", "several days", "2", "0", "1", "0", "0", "0"]:
        r = c.say(answer)
    assert "question 9 of 9" in _text(r)
    r = c.say("1")
    assert r.crisis and r.crisis_resources and r.messages[0].startswith("I'm concerned")
    assert "PHQ-9: 6 / 27 (mild)" in _text(r) and "suicide-risk protocol" in _text(r)
    with session_scope() as s:
        assert [x.total for x in list_scores(s, "pa-1", "phq9")] == [6]
        assert {a.rule for a in list_alerts(s, subject="pa-1")} >= {"phq9-item9"}


def test_book_move_cancel_by_chat(world, chat):
    from theralab.monitoring.assistant import scheduling as sch

    c = chat("ann")
    r = c.say("I need an appointment")
    assert "These slots are free" in _text(r)
    r = c.say("1")
    assert r.state == "confirmation" and r.options == ["yes", "no"]
    r = c.say("yes")
    assert "Booked" in _text(r)
    r = c.say("please reschedule my appointment")
    assert "Which appointment" in _text(r)
    c.say("1")
    r = c.say("2")
    assert r.state == "confirmation"
    r = c.say("yes")
    assert "Moved" in _text(r)
    c.say("cancel my appointment")
    c.say("1")
    r = c.say("maybe")
    assert "yes or no" in _text(r)
    r = c.say("yes")
    assert "Cancelled" in _text(r)
    with session_scope() as s:
        assert sch.list_appointments(s, "pa-1") == []


def test_exam_order_booked_by_chat(world, chat):
    from theralab.monitoring.assistant import scheduling as sch

    with session_scope() as s:
        sch.order_exam(s, "pa-1", "fasting lipid panel", slot_kind="lab", requested_by="doc")
    c = chat("ann")
    r = c.say("book the blood test my doctor asked for")
    assert "fasting lipid panel" in _text(r)
    r = c.say("1")
    assert "lab" in _text(r)
    c.say("1")
    r = c.say("yes")
    assert "Booked" in _text(r)
    with session_scope() as s:
        assert sch.list_appointments(s, "pa-1")[0].reason == "fasting lipid panel"


def test_stop_leaves_a_task(world, chat):
    c = chat("ann")
    c.say("book an appointment")
    r = c.say("never mind")
    assert r.state == "intent" and "Stopped" in _text(r)


def test_my_medications_and_results_are_own_only(world, chat):
    meds = _text(chat("ann").say("what are my medications?"))
    assert "clopidogrel" in meds and "amlodipine" not in meds
    res = _text(chat("ann").say("show my latest results"))
    assert "Heart rate: 72" in res and "CYP2C19: Poor Metabolizer" in res
    assert "amlodipine" in _text(chat("bob").say("my medications"))


def test_yes_to_suicidal_question_in_triage_shows_crisis_first(world, chat):
    c = chat("ann")
    c.say("symptom check: I can't sleep")
    c.say("two weeks")
    r = c.say("5")
    while r.state == "slot_filling" and "ending your life" not in r.messages[-1]:
        r = c.say("no")
    r = c.say("yes")
    assert r.crisis and r.messages[0].startswith("I'm concerned")
    assert r.triage["level"] == "emergency" and "answered_suicidal" in r.triage["red_flags"]
    from theralab.monitoring.assistant.conversations import inbox

    with session_scope() as s:
        assert [(i["conversation_id"], i["priority"]) for i in inbox(s)] == [(c.cid, "emergency")]
