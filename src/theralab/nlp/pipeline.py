"""``extract(text)``: the one call matching, criteria parsing and literature mining use.

NER (the shipped BiLSTM-CRF ensemble by default) then ConText flags, returning plain
:class:`~theralab.nlp.entities.Entity` records with offsets into the caller's text.
"""

from __future__ import annotations

from theralab.errors import InputError
from theralab.nlp.context import apply_context
from theralab.nlp.entities import Entity
from theralab.nlp.ner import DEFAULT_MODEL, load_ner

MAX_CHARS = 1_000_000


def extract(text: str, *, model: str = DEFAULT_MODEL, context: bool = True,
            types: set[str] | None = None) -> list[Entity]:
    """Recognise clinical entities in ``text`` and flag negation, history, family and hypothesis.

    Args:
        text: criteria, a note or an abstract. Lines are tagged independently.
        model: a shipped model name or a model directory.
        context: run ConText (default True).
        types: keep only these entity types (e.g. ``{"Condition", "Drug"}``); all by default.

    Returns:
        Entities in reading order; ``text[e.start:e.end] == e.text`` for each.

    Raises:
        InputError: for a non-string, empty or over-long text.
    """
    if not isinstance(text, str):
        raise InputError(f"text must be a string, not {type(text).__name__}", where="text")
    if not text.strip():
        raise InputError("text is empty", where="text", hint="pass the criteria, note or abstract to analyse")
    if len(text) > MAX_CHARS:
        raise InputError(f"text has {len(text):,} characters; at most {MAX_CHARS:,} per call", where="text",
                         hint="split the document and call extract on each part")
    entities = load_ner(model).predict(text)
    if context:
        apply_context(text, entities)
    if types is not None:
        entities = [e for e in entities if e.type in types]
    return entities
