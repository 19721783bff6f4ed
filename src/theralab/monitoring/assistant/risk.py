"""Risk cues in free text (suicidal intent, self-harm, hopelessness) and the crisis response.

Why rules, and why conservative: a missed cue can cost a life, a false alarm costs a clinician a
minute. So every cue is a hand-written pattern that is easy to audit, and *negation does not
cancel a cue*: "I would never hurt myself" still raises a clinician alert (one severity lower) and
still shows the crisis resources, because people in crisis often minimise, and a pattern matcher
cannot tell sincere denial from it. Crisis resources are returned with the very reply that found
the cue, before anything else is said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

# (category, severity, pattern). Categories in decreasing urgency.
_CUES: tuple[tuple[str, str, str], ...] = (
    ("suicidal_intent", "critical",
     r"\b(kill(ing)?|end(ing)?|take|taking)\s+(my\s+(own\s+)?life|myself)\b|\bsuicid\w*|\bwant(ed)?\s+to\s+die\b"
     r"|\bend\s+it\s+all\b|\bbetter\s+off\s+dead\b|\bno\s+reason\s+to\s+live\b|\bnot\s+(want|wanting)\s+to\s+(live|be\s+alive)"
     r"|\bdon'?t\s+want\s+to\s+(live|be\s+alive|wake\s+up)\b|\boverdose\b|\bhang(ing)?\s+myself\b|\bjump\s+off\b"
     r"|\bwish\s+i\s+(was|were)\s+dead\b|\bplan\s+to\s+(die|end)\b|\bsay(ing)?\s+goodbye\s+to\s+everyone\b"),
    ("self_harm", "critical",
     r"\b(hurt(ing)?|harm(ing)?|cut(ting)?|burn(ing)?|injur(e|ing))\s+(my\s*self|myself)\b|\bself[-\s]?harm\w*"
     r"|\bcut\s+my\s+(wrists?|arms?|legs?)\b"),
    ("hopelessness", "high",
     r"\bhopeless\w*|\bno\s+hope\b|\bno\s+way\s+out\b|\bno\s+point\s+(in\s+)?(living|anything|going\s+on)"
     r"|\bcan'?t\s+go\s+on\b|\bgive\s+up\s+on\s+(life|everything)\b|\bburden\s+to\s+(everyone|my\s+family|others)\b"
     r"|\bnothing\s+(will\s+)?(ever\s+)?(get|gets)\s+better\b|\bworthless\b|\btrapped\b"),
)
_COMPILED = tuple((cat, sev, re.compile(pat, re.IGNORECASE)) for cat, sev, pat in _CUES)
_NEGATION = re.compile(r"\b(never|not|no|don'?t|won'?t|wouldn'?t|would\s+never|isn'?t|aren'?t|nor)\b", re.IGNORECASE)
_SEVERITY_DOWN = {"critical": "high", "high": "medium"}

CRISIS_RESOURCES: tuple[dict[str, str], ...] = (
    {"name": "Emergency services", "contact": "112 (EU) / 911 (US) / 999 (UK)",
     "when": "if you might act on these thoughts now or are in danger"},
    {"name": "988 Suicide & Crisis Lifeline (US)", "contact": "call or text 988", "when": "24/7"},
    {"name": "Samaritans (UK & Ireland)", "contact": "116 123", "when": "24/7, free"},
    {"name": "Find a helpline in your country", "contact": "https://findahelpline.com", "when": "any time"},
)
CRISIS_MESSAGE = (
    "I'm concerned about what you wrote, and your safety matters most. If you might act on these "
    "thoughts or are in danger, call emergency services now. You can talk to someone right away: "
    + "; ".join(f"{r['name']}: {r['contact']}" for r in CRISIS_RESOURCES)
    + ". I have also alerted your care team so a clinician can contact you."
)


@dataclass(frozen=True)
class RiskCue:
    """One matched cue: category, the matched words, and whether a negation preceded it."""

    category: str
    severity: str
    match: str
    negated: bool


@dataclass(frozen=True)
class RiskAssessment:
    """All cues in a text; ``escalate`` is True whenever any cue matched (negated or not)."""

    cues: tuple[RiskCue, ...] = field(default_factory=tuple)

    @property
    def escalate(self) -> bool:
        return bool(self.cues)

    @property
    def severity(self) -> str | None:
        """The highest alert severity among the cues (negated cues count one step lower)."""
        order = ("medium", "high", "critical")
        sevs = [c.severity for c in self.cues]
        return max(sevs, key=order.index) if sevs else None

    def to_dict(self) -> dict[str, Any]:
        return {"escalate": self.escalate, "severity": self.severity,
                "cues": [{"category": c.category, "severity": c.severity, "negated": c.negated} for c in self.cues]}


def assess_text(text: str) -> RiskAssessment:
    """Find risk cues in ``text``; a negation within 5 words before a cue lowers its severity by one.

    Why not drop negated cues: "I would never hurt myself" and "I'm not saying I want to die" are
    common ways of disclosing; a clinician judges them, the software does not.
    """
    cues: list[RiskCue] = []
    seen: set[str] = set()
    for category, severity, pattern in _COMPILED:
        for m in pattern.finditer(text or ""):
            before = " ".join(text[: m.start()].split()[-5:])
            negated = bool(_NEGATION.search(before))
            sev = _SEVERITY_DOWN.get(severity, severity) if negated else severity
            if category not in seen:
                cues.append(RiskCue(category, sev, m.group(0), negated))
                seen.add(category)
    return RiskAssessment(tuple(cues))


def escalate(session: Session, *, patient_id: str, reason: str, severity: str = "critical",
             evidence: dict[str, Any] | None = None) -> int:
    """Raise a clinician alert (project alerts, domain ``assistant``) and return its id.

    The evidence holds categories and scores only, never the patient's words: the alert inbox is
    read by more people than the conversation.
    """
    from theralab.runtime.alerts import raise_alert

    alert, _new = raise_alert(
        session, domain="assistant", subject=patient_id, rule=reason, severity=severity,
        title=f"Mental-health risk ({reason.replace('-', ' ')}): contact the patient", evidence=evidence or {},
        dedup_key=f"assistant:{reason}:{patient_id}",
    )
    return alert.id
