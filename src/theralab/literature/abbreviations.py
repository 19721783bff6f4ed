"""Abbreviation definitions, Schwartz-Hearst style: "non-small cell lung cancer (NSCLC)".

Why: abstracts define an abbreviation once and then use only the short form, which a tagger sees
without its context ("NSCLC" alone could be anything). Finding the definition lets every later
short form inherit the long form's type and identifier. The algorithm is the one of Schwartz and
Hearst (PSB 2003): a short-form candidate is the text inside parentheses (at most two words, 2-10
characters, a letter first, not a pure number); its long form is the shortest run of at most
``min(|SF| + 5, 2 |SF|)`` words before the parenthesis in which the short form's characters occur
in order, the first one at the start of a word. The reverse layout "NSCLC (non-small cell lung
cancer)" is tried when the parenthesised text is the longer one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from theralab.literature.sentences import sentences

__all__ = ["Abbreviation", "find_abbreviations", "short_form_spans"]

_PAREN = re.compile(r"\(([^()]{1,60})\)")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Abbreviation:
    """A definition: short form and long form with their ``[start, end)`` offsets in the text."""

    short: str
    long: str
    short_start: int
    short_end: int
    long_start: int
    long_end: int


def _valid_short(sf: str) -> bool:
    return (2 <= len(sf) <= 10 and len(sf.split()) <= 2 and sf[0].isalnum() and any(c.isalpha() for c in sf)
            and not sf.replace(".", "").isdigit())


def _best_long_form(sf: str, lf: str) -> int | None:
    """Start index in ``lf`` of the shortest suffix that spells ``sf`` (Schwartz & Hearst's matcher)."""
    s, l_ = len(sf) - 1, len(lf) - 1
    while s >= 0:
        c = sf[s].lower()
        if not c.isalnum():
            s -= 1
            continue
        while l_ >= 0 and (lf[l_].lower() != c or (s == 0 and l_ > 0 and lf[l_ - 1].isalnum())):
            l_ -= 1
        if l_ < 0:
            return None
        s -= 1
        l_ -= 1
    return lf.rfind(" ", 0, l_ + 1) + 1


def _define(text: str, sf_start: int, sf_end: int, before_end: int, sent_start: int) -> Abbreviation | None:
    sf = text[sf_start:sf_end]
    if not _valid_short(sf):
        return None
    words = list(_WORD.finditer(text, sent_start, before_end))
    limit = min(len(sf) + 5, 2 * len(sf))
    words = words[-limit:]
    if not words:
        return None
    lo = words[0].start()
    lf = text[lo:before_end].rstrip()
    first = _best_long_form(sf, lf)
    if first is None:
        return None
    start = lo + first
    end = lo + len(lf)
    long = text[start:end].rstrip(",;:")
    end = start + len(long)
    if len(long) <= len(sf) or sf.lower() in long.lower().split():
        return None
    return Abbreviation(sf, long, sf_start, sf_end, start, end)


def find_abbreviations(text: str, spans: list[tuple[int, int]] | None = None) -> list[Abbreviation]:
    """Every abbreviation defined in ``text`` (per sentence; ``spans``: sentences if already known)."""
    out: list[Abbreviation] = []
    for s0, s1 in spans or sentences(text):
        for m in _PAREN.finditer(text, s0, s1):
            if m.start() == s0 or not text[m.start() - 1].isspace():
                continue  # "A(2A)", "10(-8)": no definition without a space before the parenthesis
            inner = m.group(1).strip()
            inner_start = m.start(1) + (len(m.group(1)) - len(m.group(1).lstrip()))
            inner_end = inner_start + len(inner)
            # "long form (SF, ...)" keeps only the part before a comma or semicolon
            cut = re.split(r"[;,]\s", inner, maxsplit=1)[0]
            found = _define(text, inner_start, inner_start + len(cut), m.start(), s0)
            if found is None and len(inner.split()) > 2:  # reverse: "SF (long form)"
                prev = list(_WORD.finditer(text, s0, m.start()))
                if prev:
                    w = prev[-1]
                    sf_text = w.group().rstrip(",;:")
                    if _valid_short(sf_text) and _best_long_form(sf_text, inner) == 0:
                        found = Abbreviation(sf_text, inner, w.start(), w.start() + len(sf_text), inner_start,
                                             inner_end)
            if found is not None:
                out.append(found)
    return out


def short_form_spans(text: str, short: str) -> list[tuple[int, int]]:
    """Every whole-word occurrence of ``short`` in ``text`` (case-sensitive, as abbreviations are)."""
    pattern = re.compile(r"(?<![\w-])" + re.escape(short) + r"(?![\w-])")
    return [(m.start(), m.end()) for m in pattern.finditer(text)]
