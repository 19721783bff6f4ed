"""``tag(docs)``: the whole entity pipeline over a batch of documents.

Why abbreviation propagation after the tagger: the network decides each "NSCLC" from its sentence
alone, while the definition "non-small cell lung cancer (NSCLC)" settles every one of them at once,
so short forms take the type (and later the identifier) of their long form's mention. A short form
whose long form is no mention is left as the tagger found it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from theralab.literature.abbreviations import find_abbreviations, short_form_spans
from theralab.literature.documents import Document, Mention
from theralab.literature.negation import mark_negated
from theralab.literature.ner.encoding import doc_sentences
from theralab.literature.ner.tagger import NERModel, as_mentions
from theralab.literature.normalise import Normaliser, load_normaliser, normalise_document


@lru_cache(maxsize=2)
def load_model(model_dir: str | None = None) -> NERModel:
    """The tagger (default: the shipped model), loaded once per process."""
    return NERModel.load(Path(model_dir) if model_dir else None)


@lru_cache(maxsize=1)
def _normaliser() -> Normaliser:
    return load_normaliser()


def propagate_abbreviations(doc: Document) -> Document:
    """Give every short form the type of its long form's mention (in place).

    The long form's mention is the longest mention that ends where the long form ends and starts
    inside it ("lung cancer" in "non-small cell lung cancer" counts when it is all the tagger
    found). Occurrences of the short form replace any mention they overlap.
    """
    for a in find_abbreviations(doc.text, doc.sentences or None):
        inside = [m for m in doc.mentions if m.end == a.long_end and a.long_start <= m.start < m.end
                  and m.source != "abbreviation"]
        if not inside:
            continue
        long_m = min(inside, key=lambda m: m.start)
        for s, e in short_form_spans(doc.text, a.short):
            if any(m.start <= s and e <= m.end and (m.start, m.end) != (s, e) for m in doc.mentions):
                continue  # part of a longer mention ("ACE inhibitors"): that mention stands
            keep = [m for m in doc.mentions if not (m.start < e and s < m.end)]
            keep.append(Mention(s, e, doc.text[s:e], long_m.type, long_m.identifier, long_m.confidence, False,
                                "abbreviation"))
            doc.mentions = sorted(keep, key=lambda m: (m.start, m.end))
    return doc


def annotate(doc: Document, spans: list[tuple[int, int, str, float]], *, normalise: bool = True) -> Document:
    """The steps after the network for one document: mentions from spans, abbreviations, identifiers, negation."""
    if not doc.sentences:
        doc.sentences = doc_sentences(doc)
    doc.mentions = as_mentions(doc, spans)
    propagate_abbreviations(doc)
    if normalise:
        normalise_document(doc, _normaliser())
    mark_negated(doc)
    return doc


def tag(docs: list[Document], *, model: NERModel | None = None, normalise: bool = True,
        batch_size: int = 32) -> list[Document]:
    """Fill each document's ``mentions`` (replacing what it had) and ``sentences`` (if empty).

    Args:
        docs: documents; their ``text`` is what offsets point into. Empty texts get no mentions.
        model: a loaded :class:`NERModel` (default: the shipped one, loaded once).
        normalise: add MeSH / HGNC identifiers (:mod:`theralab.literature.normalise`).
        batch_size: sentences per forward pass of the small network.

    Returns:
        The same document objects, tagged: mentions sorted by start, each with type, identifier,
        confidence (tagger x normaliser) and ``negated``.
    """
    model = model or load_model()
    for d in docs:
        if not d.sentences:
            d.sentences = doc_sentences(d)
    live = [d for d in docs if d.text.strip()]
    spans = model.predict(live, batch_size=batch_size) if live else []
    for d, found in zip(live, spans, strict=True):
        annotate(d, found, normalise=normalise)
    for d in docs:
        if not d.text.strip():
            d.mentions = []
    return docs
