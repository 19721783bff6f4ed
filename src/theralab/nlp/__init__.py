"""Clinical natural-language processing: tokenisation, NER trained on Chia (BiLSTM-CRF, CRF), and ConText.

Public API (lazy, so ``import theralab.nlp`` stays cheap)::

    from theralab.nlp import extract
    for e in extract("No history of myocardial infarction within 6 months"):
        print(e.type, e.text, e.start, e.end, e.negated, e.historical)

Reused by :mod:`theralab.trials.criteria.parse` (eligibility criteria), trial matching (free-text notes)
and, later, literature mining.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Entity", "apply_context", "extract", "load_ner", "tokenize"]


def __getattr__(name: str) -> Any:
    if name == "Entity":
        from theralab.nlp.entities import Entity

        return Entity
    if name == "extract":
        from theralab.nlp.pipeline import extract

        return extract
    if name == "apply_context":
        from theralab.nlp.context import apply_context

        return apply_context
    if name == "load_ner":
        from theralab.nlp.ner import load_ner

        return load_ner
    if name == "tokenize":
        from theralab.nlp.tokens import tokenize

        return tokenize
    raise AttributeError(name)
