"""The safety layer every message passes through, in and out, whatever produced the reply.

Why one layer: the rule-based engine and the optional LLM backend must obey the same limits. In:
empty and over-long messages, non-English text, prompt injection ("ignore your rules") and requests
for someone else's data are recognised before any intent is. Out: a phrased answer is accepted only
if it adds no number, link or risk wording that its source lacked, else the source text is used.
The structural rule that matters most is not here but in the engine: data lookups take the patient
id from the login, never from the message, so no wording can reach another patient's record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CHARS = 2000

_INJECTION = re.compile(
    r"ignore\s+(all\s+|any\s+|your\s+|the\s+|previous\s+|prior\s+|above\s+)*(rules|instructions|guidelines|prompts?|safety)"
    r"|disregard\s+(all\s+|your\s+|the\s+|previous\s+)*(rules|instructions)|system\s+prompt|developer\s+mode|jailbreak"
    r"|you\s+are\s+now\s+(a|an|my)\b|pretend\s+(to\s+be|you\s+are)|act\s+as\s+(a|an|my)\s+(doctor|pharmacist|unrestricted)"
    r"|forget\s+(all\s+|your\s+)?(rules|instructions)|override\s+(your\s+)?(safety|rules)|<\s*/?\s*system\s*>",
    re.IGNORECASE)
_OTHER_PERSON = re.compile(
    r"\b(my\s+)?(wife|husband|partner|mother|mum|mom|father|dad|son|daughter|brother|sister|friend|neighbou?r|"
    r"colleague|boss|grandm\w+|grandf\w+)'?s\s+(\w+\s+)?(results?|records?|medications?|medicines?|data|file|chart|"
    r"appointments?|diagnos\w+|tests?|labs?|vitals?|genotypes?)\b"
    r"|\b(another|other|someone\s+else'?s?|a\s+different)\s+(patient|person)'?s?\b"
    r"|\bpatient\s+(id\s+|number\s+|#\s*)?[A-Za-z0-9-]*\d[A-Za-z0-9-]*\b"
    r"|\b(results?|records?|medications?|data)\s+(of|for)\s+(patient|mr|mrs|ms|dr)\b",
    re.IGNORECASE)
_ENGLISH = frozenset(
    "the a an and or to of in on at is are am was were be been i you he she it we they my your me do does did have has "
    "had can could will would should not no yes please what how when where why who which with for from this that "
    "there pain feel feeling hurt help doctor appointment book cancel medicine medication results ok okay hi hello "
    "thanks thank bye sick ill since day days week weeks headache fever cough need want".split())


@dataclass(frozen=True)
class InputCheck:
    """Verdict on one incoming message; ``block`` holds the reply when the message is not processed."""

    kind: str  # ok | empty | too_long | non_english | injection | other_patient
    block: str | None = None


def looks_english(text: str) -> bool:
    """True for Latin-script text with common English words (short replies such as '2' or 'yes' pass)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return True
    latin = sum(1 for c in letters if c.isascii()) / len(letters)
    if latin < 0.8:
        return False
    words = re.findall(r"[a-zA-Z']+", text.lower())
    if len(words) <= 2:
        return True
    return sum(w in _ENGLISH for w in words) / len(words) >= 0.2


def check_input(text: str | None) -> InputCheck:
    """Classify a message before the engine sees it (risk cues are checked separately, and first)."""
    if text is None or not text.strip():
        return InputCheck("empty", "Your message was empty. Type a question, describe a symptom, or say "
                                   "\"book an appointment\" or \"talk to a human\".")
    if len(text) > MAX_CHARS:
        return InputCheck("too_long", f"That message is longer than {MAX_CHARS} characters, which is more than I can "
                                      "handle safely. Please send a shorter summary, or say \"talk to a human\". "
                                      "If this is an emergency, call 112 / 911 / 999 now.")
    if _INJECTION.search(text):
        return InputCheck("injection", "I can't change how I work or set aside my safety rules. I'm happy to help "
                                       "with a health question, a symptom check, a questionnaire or appointments.")
    if _OTHER_PERSON.search(text):
        return InputCheck("other_patient", "I can only show you your own record. Someone else's information can "
                                           "only be shared with them, or through their care team with their consent.")
    if not looks_english(text):
        return InputCheck("non_english", "Sorry, I can only understand English for now. If this is an emergency call "
                                         "112 / 911 / 999. Say \"human\" and a clinician will contact you.")
    return InputCheck("ok")


_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_URL = re.compile(r"https?://\S+")


def check_output(candidate: str, source: str, *, max_chars: int = 1500) -> bool:
    """Accept a phrased answer only if it adds no number or link its source lacks and stays short.

    Why numbers: an invented dose or threshold is the most dangerous thing a language model can add.
    """
    if not candidate.strip() or len(candidate) > max_chars:
        return False
    if set(_NUMBER.findall(candidate)) - set(_NUMBER.findall(source)):
        return False
    if set(_URL.findall(candidate)) - set(_URL.findall(source)):
        return False
    return not (_INJECTION.search(candidate) or _OTHER_PERSON.search(candidate))
