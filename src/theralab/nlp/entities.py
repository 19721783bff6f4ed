"""The entity record every consumer of :mod:`theralab.nlp` receives, and BIO decoding.

Kept free of the model so matching, criteria parsing and a later literature miner can share one
plain, JSON-ready shape: span, type, normalised text, and ConText flags.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from theralab.nlp.tokens import Token


@dataclass
class Entity:
    """One recognised mention.

    Attributes:
        text: the exact source characters ``source[start:end]``.
        type: Chia entity type (``Condition``, ``Drug``, ``Measurement``, ``Value``…).
        start: character offset of the first character in the source text.
        end: offset one past the last character.
        normalized: lower-cased, whitespace-collapsed text (the key used for code lookup).
        score: mean CRF marginal probability of the entity's labels (0..1), a confidence cue.
        negated / historical / family / hypothetical: ConText flags, see :mod:`theralab.nlp.context`.
        triggers: the context trigger phrases that set the flags, for explanation.
    """

    text: str
    type: str
    start: int
    end: int
    normalized: str = ""
    score: float = 1.0
    negated: bool = False
    historical: bool = False
    family: bool = False
    hypothetical: bool = False
    triggers: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.normalized:
            self.normalized = normalize(self.text)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return asdict(self)


def normalize(text: str) -> str:
    """Lower-case, unify quotes/dashes and collapse whitespace: ``"Type 2  Diabetes"`` -> ``"type 2 diabetes"``."""
    text = text.lower().replace("\u2019", "'").replace("\u2013", "-").replace("\u2014", "-")
    return re.sub(r"\s+", " ", text).strip(" ,;:.")


def bio_to_spans(tokens: list[Token], labels: list[str]) -> list[tuple[str, int, int, int, int]]:
    """Decode BIO labels into (type, start_char, end_char, first_token, last_token+1).

    An ``I-X`` that does not continue an ``X`` entity opens a new one (the lenient "IOB1" reading),
    so a tagger's occasional invalid transition still yields an entity instead of losing it.
    """
    out: list[tuple[str, int, int, int, int]] = []
    cur: list[Any] | None = None
    for i, (tok, lab) in enumerate(zip(tokens, labels, strict=True)):
        if lab == "O":
            if cur:
                out.append(tuple(cur))  # type: ignore[arg-type]
            cur = None
            continue
        tag, etype = lab.split("-", 1)
        if tag == "I" and cur and cur[0] == etype:
            cur[2], cur[4] = tok.end, i + 1
        else:
            if cur:
                out.append(tuple(cur))  # type: ignore[arg-type]
            cur = [etype, tok.start, tok.end, i, i + 1]
    if cur:
        out.append(tuple(cur))  # type: ignore[arg-type]
    return out
