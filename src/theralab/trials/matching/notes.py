"""Evidence from free-text notes: find a criterion's concept in a note and read its context with ConText.

Why term search plus ConText rather than the NER alone: matching already knows *what* to look for
(the criterion entity's text, its codes' displays and the lexicon's synonyms for those codes), so
finding the mention is a whole-word search; what is hard is the context: "Patient denies atrial
fibrillation", "Her mother had breast cancer", "Return if symptoms of heart failure develop". That
is exactly what :func:`theralab.nlp.context.apply_context` answers (negated / historical / family /
hypothetical, with the trigger phrase as the reason), and it needs no trained weights. The same
call serves a later literature miner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from theralab.nlp.context import apply_context
from theralab.nlp.entities import Entity

_RELATIVE = re.compile(
    r"\b(mother|father|sister|brother|sibling|siblings|parent|parents|aunt|uncle|grandmother|grandfather|"
    r"cousin|son|daughter|family history|relative|relatives)\b", re.IGNORECASE)

_NEG_THROUGH_HISTORY = re.compile(
    r"\b(no|denies|denied|without|negative for|never had|free of)\b(\s+[\w-]+){0,2}?\s+"
    r"(history of|hx of|prior|previous|past)(\s+[\w-]+){0,3}\s*$", re.IGNORECASE)
_FAMILY_DENIED = re.compile(r"\b(no|denies|negative for|without)\b[^.]*\bfamily (history|members?)\b", re.IGNORECASE)


@dataclass
class Mention:
    """One mention of a concept in a note, with its ConText reading."""

    note: str  # "DocumentReference/<id>"
    date: datetime | None
    sentence: str
    term: str
    status: str  # affirmed | negated | family | family_negated | hypothetical
    historical: bool = False
    triggers: list[str] = field(default_factory=list)


@lru_cache(maxsize=4096)
def synonyms(code: str) -> tuple[str, ...]:
    """Lexicon terms that map to ``code`` (criteria lexicon and the EHR terminology tables)."""
    try:
        from theralab.trials.criteria.codes import lexicon
    except ImportError:  # pragma: no cover - criteria engine absent
        return ()
    return tuple(sorted({term for term, entries in lexicon().items() if any(e.code == code for e in entries)}))


def search_terms(texts: tuple[str, ...], codes: frozenset[str] | tuple[str, ...] = ()) -> list[str]:
    """Terms to look for, longest first: the entity's words plus synonyms of its codes (3+ characters)."""
    from theralab.trials.matching.atoms import clean_display

    terms = {clean_display(t).lower().strip() for t in texts if t}
    for c in list(codes)[:50]:
        terms |= set(synonyms(c))
    return sorted((t for t in terms if len(t) >= 3), key=lambda t: (-len(t), t))


def _sentence(text: str, start: int, end: int) -> str:
    lo = max(text.rfind(".", 0, start), text.rfind("\n", 0, start)) + 1
    stops = [i for i in (text.find(".", end), text.find("\n", end)) if i != -1]
    hi = min(stops) + 1 if stops else len(text)
    return text[lo:hi].strip()


def find_mentions(notes: list[tuple[str, datetime | None, str]], terms: list[str]) -> list[Mention]:
    """Every non-overlapping whole-word mention of ``terms`` in the notes, with ConText status.

    Args:
        notes: ``(reference, date, text)`` per note.
        terms: lower-case terms, longest first (a longer term wins over a shorter one inside it).
    """
    if not terms:
        return []
    pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(t) for t in terms) + r")(?![\w-])", re.IGNORECASE)
    out: list[Mention] = []
    for ref, when, text in notes:
        if not text:
            continue
        ents = [Entity(m.group(0), "Condition", m.start(), m.end()) for m in pattern.finditer(text)]
        if not ents:
            continue
        apply_context(text, ents)
        for e in ents:
            _repair_scope(text, e)
            if e.family:
                status = "family_negated" if e.negated else "family"
            else:
                status = "negated" if e.negated else "hypothetical" if e.hypothetical else "affirmed"
            out.append(Mention(ref, when, _sentence(text, e.start, e.end), e.text, status, e.historical,
                               list(e.triggers)))
    return out


def _repair_scope(text: str, e: Entity) -> None:
    """Repair two scope cuts of ConText: family subjects and negations reaching through "history of".

    A mention is flagged family when a relative is named earlier in its sentence, and negated when a
    negation precedes a history trigger that precedes it ("denies any history of asthma").

    ConText cuts a scope at a trigger of another category, so in "Her mother had breast cancer"
    the family scope of "mother" ends at the historical trigger "had" and the cancer would be read
    as the patient's. A relative named before the mention in the same sentence settles it.
    """
    lo = max(text.rfind(".", 0, e.start), text.rfind("\n", 0, e.start)) + 1
    hit = _RELATIVE.search(text, lo, e.start)
    if hit and not e.family:
        e.family = True
        e.triggers.append(f"family:{hit.group(0).lower()} (sentence subject)")
    if not e.negated and _NEG_THROUGH_HISTORY.search(text[lo:e.start]):
        e.negated = True  # "denies any history of asthma": the history trigger cut the negation's scope
        e.triggers.append("negated:through history trigger")
    if e.family and not e.negated and _FAMILY_DENIED.search(text[lo:e.start]):
        e.negated = True  # "No family history of cancer": the same scope cut hides the negation
        e.triggers.append("negated:no family history")


def judge(mentions: list[Mention], *, family: bool, since: datetime | None = None,
          until: datetime | None = None, qualifiers: tuple[str, ...] = ()) -> tuple[bool | None, list[Mention]]:
    """What the notes say about the concept: True (present), False (denied), None (silent or only hypothetical).

    Args:
        mentions: from :func:`find_mentions`.
        family: the question is about a relative (only family mentions count), or about the patient.
        since, until: only notes dated in this window count (a criterion's time window).
        qualifiers: words the criterion qualifies its concept with ("uncontrolled"); an affirmed
            mention proves the concept only when its sentence carries them all.

    An affirmed mention outweighs a denial in another note (a later diagnosis after an earlier
    "denies"), because for eligibility a missed condition is the costly error.
    """
    def in_window(m: Mention) -> bool:
        if m.date is None:
            return since is None
        return (since is None or m.date >= since) and (until is None or m.date <= until)

    used = [m for m in mentions if in_window(m)]
    if family:
        hits = [m for m in used if m.status == "family"]
        if hits:
            return True, hits
        denied = [m for m in used if m.status == "family_negated"]
        return (False, denied) if denied else (None, [])
    pos = [m for m in used if m.status == "affirmed"
           and all(re.search(rf"\b{re.escape(q)}\b", m.sentence, re.I) for q in qualifiers)]
    if pos:
        return True, pos
    neg = [m for m in used if m.status == "negated"]
    if neg:
        return False, neg
    return None, [m for m in used if m.status in ("hypothetical", "family", "family_negated")]
