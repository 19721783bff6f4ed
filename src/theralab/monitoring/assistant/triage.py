"""Symptom triage: structured intake, an emergency red-flag layer that always wins, three levels.

Why this order: symptom checkers average 57 % correct triage and under-triage some emergencies
(Semigran et al., BMJ 2015). Under-triage is the error that kills, so (1) every red-flag question is
asked explicitly and a "yes" can never be outvoted, (2) red-flag rules run first and any hit makes
the level ``emergency`` whatever else is true, (3) ``self_care`` is the exception that has to be
earned (a known minor complaint, mild, short, no "see a doctor" feature); everything in between is
``soon``. Every level comes with the reasons that produced it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from theralab.monitoring.assistant.findings import duration_hours, extract_findings, severity_score
from theralab.monitoring.assistant.risk import assess_text

Level = Literal["emergency", "soon", "self_care"]
LEVELS: tuple[str, ...] = ("emergency", "soon", "self_care")
ADVICE = {
    "emergency": "Call emergency services (112 / 911 / 999) or go to the nearest emergency department now.",
    "soon": "See a doctor within the next few days; book an appointment. Come back if anything gets worse.",
    "self_care": "This can usually be looked after at home or with a pharmacist's advice. See a doctor if it "
                 "lasts longer than a week, gets worse, or any warning sign appears.",
}

# Red flags asked explicitly, in this order, when the patient has not already said yes or no.
RED_FLAG_QUESTIONS: dict[str, str] = {
    "chest_pain": "Do you have chest pain, pressure or tightness?",
    "breathing_severe": "Are you struggling to breathe, even at rest, or unable to speak in full sentences?",
    "face_droop": "Has one side of your face drooped?",
    "one_sided_weakness": "Is one arm or leg suddenly weak or numb?",
    "speech_trouble": "Is your speech suddenly slurred or hard to get out?",
    "face_swelling": "Are your lips, tongue, throat or face swelling?",
    "confusion": "Are you (or is the person) confused, very drowsy or hard to wake?",
    "syncope": "Have you fainted or collapsed?",
    "vomiting_blood": "Have you vomited blood or passed black, tarry stools?",
    "neck_stiffness": "Do you have a stiff neck or a rash that does not fade under a glass?",
    "thunderclap": "Did a severe headache start suddenly, like a thunderclap?",
    "suicidal": "Are you having thoughts of ending your life or harming yourself?",
}


class Intake(BaseModel):
    """One structured symptom intake (also built from free text by :func:`intake_from_text`)."""

    model_config = ConfigDict(extra="forbid")

    complaint: str = Field(min_length=1, max_length=4000, description="main complaint in the patient's words")
    details: str = Field("", max_length=8000, description="anything else: history, what makes it better or worse")
    age: int | None = Field(None, ge=0, le=120)
    sex: Literal["female", "male", "other"] | None = None
    onset: Literal["sudden", "gradual"] | None = None
    duration_hours: float | None = Field(None, ge=0)
    severity: int | None = Field(None, ge=0, le=10, description="0 (none) to 10 (worst imaginable)")
    answers: dict[str, bool] = Field(default_factory=dict, description="red-flag question id -> yes/no")

    @field_validator("answers")
    @classmethod
    def _known(cls, value: dict[str, bool]) -> dict[str, bool]:
        unknown = set(value) - set(RED_FLAG_QUESTIONS) - set(_EXTRA_ANSWERS)
        if unknown:
            raise ValueError(f"unknown red-flag question(s): {', '.join(sorted(unknown))}")
        return value


_EXTRA_ANSWERS = ("pregnant", "diabetic", "immunosuppressed", "recent_surgery_or_immobile", "fever")


@dataclass(frozen=True)
class TriageResult:
    """The level, why, which red flags fired, and which red-flag questions were never answered."""

    level: str
    reasons: list[str]
    red_flags: list[str]
    unanswered: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)

    @property
    def advice(self) -> str:
        return ADVICE[self.level]

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "advice": self.advice, "reasons": self.reasons, "red_flags": self.red_flags,
                "unanswered": self.unanswered, "findings": self.findings}


@dataclass(frozen=True)
class _Ctx:
    f: set[str]
    age: int | None
    sex: str | None
    onset: str | None
    hours: float | None
    severity: int | None
    suicidal: bool


Rule = tuple[str, str, Callable[[_Ctx], bool]]


def _has(c: _Ctx, *ids: str) -> bool:
    return any(i in c.f for i in ids)


def _chest_risk(c: _Ctx) -> bool:
    return (c.age is not None and c.age >= 35) or _has(
        c, "pain_radiating", "sweating", "breathless", "syncope", "exertional", "pain_at_rest", "tearing_pain",
        "palpitations", "diabetic", "severe_pain", "recent_surgery_or_immobile")


# (id, reason shown to the patient, rule). All emergency; the first that fires is named first.
RED_FLAG_RULES: tuple[Rule, ...] = (
    ("suicidal_intent", "thoughts of suicide or self-harm", lambda c: c.suicidal),
    ("chest_pain_risk", "chest pain with risk features", lambda c: _has(c, "chest_pain") and _chest_risk(c)),
    ("stroke_fast", "possible stroke (face, arm or speech - FAST)",
     lambda c: _has(c, "face_droop", "one_sided_weakness", "speech_trouble")),
    ("anaphylaxis", "possible anaphylaxis (swelling of face, lips or throat)",
     lambda c: _has(c, "face_swelling") and (_has(c, "breathless", "breathing_severe", "hives", "allergen_exposure"))),
    ("breathing_severe", "severe difficulty breathing", lambda c: _has(c, "breathing_severe")),
    ("collapse", "fainting, collapse or unresponsiveness",
     lambda c: _has(c, "unresponsive") or (_has(c, "syncope") and _has(
         c, "chest_pain", "breathless", "palpitations", "pregnant", "abdominal_pain", "head_injury"))),
    ("confusion", "new confusion or drowsiness", lambda c: _has(c, "confusion")),
    ("seizure", "a seizure", lambda c: _has(c, "seizure")),
    ("sepsis", "possible sepsis (fever with mottled skin, fast breathing, no urine or unusual drowsiness)",
     lambda c: _has(c, "fever") and _has(c, "mottled_skin", "fast_breathing", "no_urine", "confusion", "lethargic")),
    ("meningitis", "possible meningitis (fever or headache with stiff or painful neck, light sensitivity or rash)",
     lambda c: _has(c, "neck_stiffness", "nonblanching_rash")
     or (_has(c, "photophobia") and _has(c, "fever", "vomiting"))
     or (_has(c, "fever") and _has(c, "headache") and _has(c, "neck_pain"))),
    ("child_fever", "fever in a young child who is feeding poorly, less active or vomiting",
     lambda c: _has(c, "fever") and ((c.age is not None and c.age < 5) or _has(c, "child_word"))
     and _has(c, "lethargic", "vomiting")),
    ("thunderclap", "sudden severe headache", lambda c: _has(c, "thunderclap")),
    ("gi_bleeding", "vomiting blood or black stools", lambda c: _has(c, "vomiting_blood", "black_stool",
                                                                       "rectal_bleeding_heavy")),
    ("pe_signs", "breathlessness or chest pain after surgery / immobility or with a swollen calf",
     lambda c: _has(c, "breathless", "chest_pain") and _has(c, "recent_surgery_or_immobile", "leg_swelling_one")),
    ("pregnancy_warning", "pregnancy with bleeding, pain, contractions, reduced movements, headache or vision change",
     lambda c: _has(c, "pregnant") and _has(c, "vaginal_bleeding", "abdominal_pain", "contractions",
                                            "reduced_fetal_movement", "pregnancy_headache_vision", "syncope")),
    ("early_pregnancy_bleeding", "vaginal bleeding with abdominal pain (possible ectopic pregnancy or miscarriage)",
     lambda c: c.sex != "male" and _has(c, "vaginal_bleeding") and _has(c, "abdominal_pain")
     and (c.age is None or 12 <= c.age <= 55)),
    ("severe_abdominal_pain", "severe or localised abdominal pain with vomiting, fever or rigidity",
     lambda c: _has(c, "abdominal_pain") and (
         _has(c, "rigid_abdomen", "rlq_pain") or ((c.severity or 0) >= 7 and _has(c, "vomiting", "fever", "jaundice"))
         or (c.onset == "sudden" and (c.severity or 0) >= 7))),
    ("testicular_pain", "sudden testicular pain (possible torsion)",
     lambda c: _has(c, "testicular_pain") and (c.onset == "sudden" or (c.severity or 0) >= 7
                                               or (c.hours is not None and c.hours <= 24))),
    ("eye_emergency", "sudden vision loss or severe eye pain", lambda c: _has(c, "vision_loss_sudden",
                                                                                "eye_pain_severe")),
    ("dka", "high sugar signs (thirst, urinating a lot or diabetes) with vomiting, abdominal pain or drowsiness",
     lambda c: _has(c, "thirst_polyuria", "diabetic") and _has(c, "vomiting") and _has(c, "abdominal_pain", "confusion",
                                                                                           "fast_breathing")),
    ("no_urine", "passing little or no urine", lambda c: _has(c, "no_urine")),
    ("jaundice_fever", "yellow skin or eyes with fever or confusion", lambda c: _has(c, "jaundice")
     and _has(c, "fever", "confusion")),
    ("fever_traveller", "fever after travel abroad or mosquito bites (malaria must be excluded the same day)",
     lambda c: _has(c, "fever") and _has(c, "travel_tropics")),
    ("dehydration", "sudden profuse diarrhoea with vomiting (risk of severe dehydration)",
     lambda c: _has(c, "watery_diarrhea_profuse") and _has(c, "vomiting")),
    ("infant_fever", "fever in a baby under 3 months", lambda c: c.age is not None and c.age < 1 and _has(c, "fever")),
    ("trauma", "possible dislocation or fracture", lambda c: _has(c, "trauma_deformity")
     or (_has(c, "injury") and _has(c, "cannot_move"))),
    ("rhabdomyolysis", "dark or red urine with muscle pain or weakness",
     lambda c: _has(c, "dark_urine") and _has(c, "muscle_pain")),
    ("abdominal_pain_to_back", "abdominal pain going through to the back (pancreas or aorta)",
     lambda c: _has(c, "abdominal_pain") and _has(c, "pain_to_back")),
    ("fever_abdominal_older", "fever with abdominal pain at 50 or over",
     lambda c: _has(c, "fever") and _has(c, "abdominal_pain") and c.age is not None and c.age >= 50),
)

# Self-care is earned: a minor complaint (pattern) and nothing from SOON_FEATURES.
SELF_CARE_COMPLAINTS = (
    r"runny\s+nose|sneez\w*|blocked\s+nose|nasal\s+congestion|rhinorrh\w*|common\s+cold|sore\s+throat|hoarse\w*"
    r"|itch\w*\s+eyes?|watery\s+eyes?|sunburn|period\s+pain|menstrual\s+(pain|cramps?)|dysmenorrh\w*|muscle\s+(ache|strain)"
    r"|back\s*(ache|pain)|\btension|ear\s*wax|blocked\s+ear|stye|eyelid|dandruff|athlete'?s\s+foot|itchy\s+(skin|rash)"
    r"|hives|rash|\bcough\w*|diarrh\w*|heartburn|bloat\w*|elbow\s+pain|knee\s+pain|heel\s+pain|red\s+eyes?|eye\s+discharge"
    r"|gritty|dry\s+eyes?|eyes?\s+(feel\s+|are\s+|feeling\s+)?dry|dryness|sun\s*exposure|in\s+the\s+sun|sprain\w*|headache|cold\s+sore|fissure|chest\s+wall|tender"
)


def _soon_features(c: _Ctx) -> list[str]:
    out = []
    if c.hours is not None and c.hours > 24 * 28:
        out.append("symptoms for more than four weeks")
    if (c.severity or 0) >= 7:
        out.append("severe symptoms")
    if _has(c, "weight_loss", "night_sweats"):
        out.append("weight loss or night sweats")
    if _has(c, "blood_in_urine", "lump"):
        out.append("blood in urine or a new lump")
    if _has(c, "pregnant"):
        out.append("pregnancy")
    if _has(c, "immunosuppressed"):
        out.append("weakened immune system")
    if _has(c, "fever") and (c.hours is None or c.hours > 72):
        out.append("fever for more than three days")
    if _has(c, "jaundice", "chest_pain", "breathless", "palpitations", "syncope", "testicular_pain", "vaginal_bleeding",
            "abdominal_pain"):
        out.append("a symptom a clinician should examine")
    if c.age is not None and (c.age < 2 or c.age >= 75):
        out.append("age under 2 or 75 and over")
    return out


def intake_from_text(text: str, *, details: str = "", age: int | None = None, sex: str | None = None) -> Intake:
    """An intake from free text (chat messages, vignettes); red flags read, not yet answered.

    Onset, duration and severity come from ``text`` (the current complaint) only: a history line
    such as "smoker for 30 years" in ``details`` must not make a cold look chronic.
    """
    low = text.lower()
    onset = "sudden" if any(w in low for w in ("sudden", "abrupt", "suddenly")) else None
    return Intake(complaint=text[:4000] or "-", details=details[:8000], age=age, sex=sex,  # type: ignore[arg-type]
                  onset=onset, duration_hours=duration_hours(text), severity=severity_score(text))


def triage(intake: Intake) -> TriageResult:
    """The triage level of one intake, with its reasons (red flags first, always)."""
    text = f"{intake.complaint}\n{intake.details}"
    findings = extract_findings(text)
    for key, yes in intake.answers.items():
        if yes:
            findings.add("fever" if key == "fever" else key)
    risk = assess_text(text)
    suicidal = intake.answers.get("suicidal", False) or any(
        c.category in ("suicidal_intent", "self_harm") and not c.negated for c in risk.cues)
    severity = intake.severity if intake.severity is not None else severity_score(intake.complaint)
    hours = intake.duration_hours if intake.duration_hours is not None else duration_hours(intake.complaint)
    ctx = _Ctx(findings, intake.age, intake.sex, intake.onset, hours, severity, suicidal)
    unanswered = [k for k in RED_FLAG_QUESTIONS if k not in intake.answers and k not in findings]
    fired = [(rid, reason) for rid, reason, rule in RED_FLAG_RULES if rule(ctx)]
    # A "yes" to an explicitly asked red-flag question is an emergency on its own, whatever else.
    fired += [(f"answered_{qid}", f"you answered yes: {RED_FLAG_QUESTIONS[qid]}")
              for qid in RED_FLAG_QUESTIONS if intake.answers.get(qid) and not any(f[0] == qid for f in fired)]
    if fired:
        return TriageResult("emergency", [r for _, r in fired], [i for i, _ in fired], unanswered, sorted(findings))
    soon = _soon_features(ctx)
    minor = re.search(SELF_CARE_COMPLAINTS, text, re.IGNORECASE)
    if risk.escalate:
        soon.append("you mentioned feelings a clinician should hear about")
    if not soon and minor and (severity is None or severity <= 5):
        why = f"a usually minor complaint ({minor.group(0).lower()}) without warning signs"
        return TriageResult("self_care", [why], [], unanswered, sorted(findings))
    reasons = soon or ["a clinician should assess this complaint"]
    return TriageResult("soon", reasons, [], unanswered, sorted(findings))
