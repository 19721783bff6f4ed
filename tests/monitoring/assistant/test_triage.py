"""Triage: every red-flag rule fires on a plain-language example, negation, explicit answers win."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from theralab.monitoring.assistant.findings import duration_hours, extract_findings, severity_score
from theralab.monitoring.assistant.triage import RED_FLAG_QUESTIONS, RED_FLAG_RULES, Intake, intake_from_text, triage

# rule id -> (text, age, sex): one example per emergency rule; the test below checks coverage.
EXAMPLES = {
    "suicidal_intent": ("I have a headache and I want to kill myself", 30, "female"),
    "chest_pain_risk": ("crushing chest pain spreading to my left arm and I'm sweating", 58, "male"),
    "stroke_fast": ("my husband's face is drooping and his speech is slurred", 70, "male"),
    "anaphylaxis": ("after eating peanuts my lips and tongue are swelling and I have hives", 22, "female"),
    "breathing_severe": ("I am short of breath even at rest and can't speak in full sentences", 40, "male"),
    "collapse": ("I fainted and now I have chest pain", 25, "female"),
    "confusion": ("my mother is suddenly confused and doesn't know where she is", 80, "female"),
    "seizure": ("he had a seizure for the first time", 35, "male"),
    "sepsis": ("high fever and my skin is mottled and I'm breathing very fast", 45, "male"),
    "meningitis": ("fever, terrible headache and a stiff neck", 19, "male"),
    "child_fever": ("my baby has a fever and is refusing to feed", 0, "female"),
    "thunderclap": ("the worst headache of my life came on in a second", 50, "female"),
    "gi_bleeding": ("I vomited blood this morning", 60, "male"),
    "pe_signs": ("short of breath and my left calf is swollen after surgery last week", 55, "female"),
    "pregnancy_warning": ("I am 30 weeks pregnant and have vaginal bleeding", 29, "female"),
    "early_pregnancy_bleeding": ("lower abdominal pain and vaginal bleeding", 26, "female"),
    "severe_abdominal_pain": ("pain in the right lower quadrant of my belly", 20, "male"),
    "testicular_pain": ("sudden severe testicular pain since an hour", 16, "male"),
    "eye_emergency": ("sudden loss of vision in my right eye", 66, "male"),
    "dka": ("I'm diabetic, vomiting and have abdominal pain", 24, "female"),
    "no_urine": ("I have not passed urine since yesterday", 70, "male"),
    "jaundice_fever": ("my eyes are yellow and I have a fever", 50, "male"),
    "fever_traveller": ("fever and chills since I returned from Nigeria", 33, "male"),
    "dehydration": ("profuse watery diarrhoea and vomiting since this morning", 30, "male"),
    "infant_fever": ("fever in my 6 week old", 0, "male"),
    "trauma": ("I fell off my bike and can't move my arm", 17, "male"),
    "rhabdomyolysis": ("muscle pain all over and dark urine after a marathon", 35, "male"),
    "abdominal_pain_to_back": ("abdominal pain that radiates through to the back", 45, "male"),
    "fever_abdominal_older": ("fever and abdominal pain", 67, "female"),
}


def test_every_rule_has_an_example():
    assert {rid for rid, _, _ in RED_FLAG_RULES} == set(EXAMPLES)


@pytest.mark.parametrize("rule_id", sorted(EXAMPLES))
def test_each_red_flag_gives_emergency_and_names_itself(rule_id):
    text, age, sex = EXAMPLES[rule_id]
    result = triage(intake_from_text(text, age=age, sex=sex))
    assert result.level == "emergency"
    assert rule_id in result.red_flags
    assert result.reasons and "emergency" in result.advice.lower()


@pytest.mark.parametrize("qid", sorted(set(RED_FLAG_QUESTIONS) - {"thunderclap"}))
def test_explicit_yes_to_a_red_flag_question_always_wins(qid):
    base = Intake(complaint="a runny nose and sneezing", age=60 if qid == "chest_pain" else 30, severity=2,
                  duration_hours=24)
    assert triage(base).level == "self_care"
    flagged = base.model_copy(update={"answers": {qid: True}})
    assert triage(flagged).level == "emergency", qid


def test_thunderclap_yes():
    assert triage(Intake(complaint="headache", answers={"thunderclap": True})).level == "emergency"


def test_negated_red_flags_do_not_fire():
    text = "runny nose and sneezing for two days, no chest pain, no shortness of breath, denies fever"
    found = extract_findings(text)
    assert "chest_pain" not in found and "breathless" not in found and "fever" not in found
    assert triage(intake_from_text(text, age=30)).level == "self_care"


def test_negation_does_not_cross_a_clause():
    assert "chest_pain" in extract_findings("No fever. Chest pain since this morning")


def test_self_care_must_be_earned():
    assert triage(intake_from_text("mild sore throat since yesterday", age=25)).level == "self_care"
    # same complaint, but long-standing / severe / elderly / weight loss -> see a doctor
    assert triage(intake_from_text("sore throat for 6 weeks", age=25)).level == "soon"
    assert triage(intake_from_text("sore throat, 8 out of 10", age=25)).level == "soon"
    assert triage(intake_from_text("sore throat since yesterday", age=80)).level == "soon"
    assert triage(intake_from_text("sore throat and I'm losing weight", age=40)).level == "soon"
    # an unknown complaint is never self-care
    assert triage(intake_from_text("strange feeling in my left foot", age=40)).level == "soon"


def test_negated_suicidal_cue_is_not_emergency_but_not_self_care():
    result = triage(intake_from_text("mild cough, and no I would never hurt myself", age=30))
    assert result.level == "soon"
    assert any("clinician" in r for r in result.reasons)


def test_unanswered_red_flags_listed_until_answered():
    result = triage(Intake(complaint="cough"))
    assert result.unanswered == list(RED_FLAG_QUESTIONS)
    answered = triage(Intake(complaint="cough", answers={k: False for k in RED_FLAG_QUESTIONS}))
    assert answered.unanswered == []


def test_intake_validation():
    with pytest.raises(ValidationError):
        Intake(complaint="")
    with pytest.raises(ValidationError):
        Intake(complaint="x", severity=11)
    with pytest.raises(ValidationError):
        Intake(complaint="x", answers={"not_a_question": True})
    with pytest.raises(ValidationError):
        Intake(complaint="x", colour="blue")  # type: ignore[call-arg]


@pytest.mark.parametrize("text,hours", [("for 3 days", 72), ("two weeks", 336), ("since yesterday", 24),
                                        ("6 hours ago", 6), ("a 5-day history", 120), ("nothing", None)])
def test_duration(text, hours):
    assert duration_hours(text) == hours


@pytest.mark.parametrize("text,sev", [("7 out of 10", 7), ("pain 9/10", 9), ("severe pain", 8), ("mild", 3),
                                      ("moderate", 5), ("ok", None)])
def test_severity(text, sev):
    assert severity_score(text) == sev


def test_vignette_benchmark_regression(shared_data):
    """All 400 Avey vignettes: no emergency under-triaged, overall above the 57 % anchor."""
    import importlib.util
    import sys
    from pathlib import Path

    bench = Path(__file__).resolve().parents[3] / "benchmarks"
    sys.path.insert(0, str(bench))
    try:
        spec = importlib.util.spec_from_file_location("assistant_triage_bench", bench / "assistant_triage.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        res = module.run(shared_data / "monitoring" / "triage" / "avey_vignettes.jsonl", "all")
    finally:
        sys.path.remove(str(bench))
    assert res["n"] == 400 and res["n_emergency"] == 64
    assert res["emergency_under_triage"] == 0.0
    assert res["overall"] > 0.57
