"""Intent recognition on phrases that are NOT in the training list (written separately)."""

from __future__ import annotations

from theralab.monitoring.assistant.intents import INTENTS, PHRASES, classify

HELD_OUT = [
    ("what's the max dose of ibuprofen per day", "health_question"),
    ("is it ok to drink wine with metformin", "health_question"),
    ("what does a high cholesterol level mean", "health_question"),
    ("my tummy has been hurting since lunch", "symptom_check"),
    ("I've got a rash on my neck", "symptom_check"),
    ("my head is pounding", "symptom_check"),
    ("I'd like to fill in the anxiety questionnaire", "questionnaire"),
    ("can you check my mood with the PHQ-9", "questionnaire"),
    ("what were my blood results", "my_results"),
    ("which tablets am I on at the moment", "my_medications"),
    ("I would like to see a doctor on Friday", "book_appointment"),
    ("please book me an appointment", "book_appointment"),
    ("can we reschedule my visit to next week", "move_appointment"),
    ("I can't come tomorrow, cancel my appointment", "cancel_appointment"),
    ("let me speak with a nurse", "talk_to_human"),
    ("I'd like to talk to a real person", "talk_to_human"),
    ("hello", "greeting"),
    ("bye", "goodbye"),
    ("what is a normal pulse", "health_question"),
    ("I feel feverish and achy", "symptom_check"),
]


def test_every_intent_has_training_phrases():
    assert set(PHRASES) == set(INTENTS)
    assert all(len(v) >= 7 for v in PHRASES.values())


def test_held_out_accuracy():
    wrong = [(t, g, classify(t).intent) for t, g in HELD_OUT if classify(t).intent != g]
    assert len(wrong) <= 2, wrong


def test_gibberish_is_unknown():
    assert classify("qwxz plorf vvv").intent == "unknown"
