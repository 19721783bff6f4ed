"""Tokenisation with character offsets, the common ground of NER, context detection and criteria.

Why a small regex tokeniser rather than a general-purpose one: eligibility criteria are dense with
comparators and numbers glued to units (``<1.5X ULN``, ``>=18years``, ``HbA1c≥7%``), and the NER,
the value/unit rules and the evaluation must all agree on the same token boundaries and keep the
exact character offsets into the user's text, so that an entity can be highlighted and corrected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Order matters: numbers first (1.5, 10,000), then words that may carry digits inside (HbA1c, CD4,
# COVID-19 is word + '-' + number), then any single other visible character (<, ≥, %, /, -).
_TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:\d+[^\W\d_]*)*|\S", re.UNICODE)


@dataclass(frozen=True)
class Token:
    """A token: its text and its [start, end) character offsets in the source text."""

    text: str
    start: int
    end: int


def tokenize(text: str, offset: int = 0) -> list[Token]:
    """Split ``text`` into tokens whose offsets (shifted by ``offset``) point into the source.

    Args:
        text: any string; whitespace is never part of a token.
        offset: added to every start/end, for text that is a slice of a larger document.

    Returns:
        The tokens in order.
    """
    return [Token(m.group(), m.start() + offset, m.end() + offset) for m in _TOKEN_RE.finditer(text)]


def split_lines(text: str) -> list[tuple[int, str]]:
    """The non-blank lines of ``text`` with the offset at which each starts.

    Chia stores one criterion per line and ClinicalTrials.gov one bullet per line, so a line is
    the natural unit (the "sentence") for the sequence tagger.
    """
    out: list[tuple[int, str]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        if line.strip():
            out.append((pos, line.rstrip("\r\n")))
        pos += len(line)
    return out
