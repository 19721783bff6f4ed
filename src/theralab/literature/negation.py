"""Negated mentions: "no evidence of hepatotoxicity", "did not develop seizures", "nephrotoxicity was absent".

Why ConText: the same closed set of negation triggers and scope rules that flag clinical criteria
(:mod:`theralab.nlp.context`, NegEx/ConText of Chapman et al. 2001 and Harkema et al. 2009) carry
over to abstracts. Here they run per sentence of the document, and only the ``negated`` category is
used: a literature mention is either stated or denied. A negated chemical-disease pair is evidence
against a relation, so the relation extractor and the graph can leave it out.
"""

from __future__ import annotations

from theralab.literature.documents import Document, Mention
from theralab.literature.sentences import document_sentences
from theralab.nlp.context import find_triggers, trigger_scope
from theralab.nlp.tokens import tokenize

__all__ = ["mark_negated", "negated_spans"]

# Abstract wording the clinical lists do not hold.
_EXTRA_FORWARD = ("failed to induce", "did not induce", "did not cause", "did not develop", "did not produce",
                  "was not associated with", "were not associated with", "no cases of", "no case of")
_EXTRA_BACKWARD = ("was absent", "were absent", "was not observed", "were not observed", "did not occur",
                   "was not seen", "were not seen", "was not found", "were not found")


def negated_spans(text: str, span: tuple[int, int]) -> list[tuple[int, int]]:
    """Character ranges of one sentence ``span`` of ``text`` that a negation trigger governs."""
    tokens = tokenize(text[span[0] : span[1]], span[0])
    if not tokens:
        return []
    out = []
    triggers = find_triggers(tokens)
    for trig in triggers:
        if trig.category != "negated":
            continue
        a, b = trigger_scope(tokens, triggers, trig)
        if a < b:
            out.append((tokens[a].start, tokens[b - 1].end))
    low = [t.text.lower() for t in tokens]
    for phrase in _EXTRA_FORWARD:
        words = phrase.split()
        for i in range(len(low) - len(words) + 1):
            if low[i : i + len(words)] == words:
                j = i + len(words)
                end = next((k for k in range(j, min(j + 12, len(tokens))) if low[k] in (".", ";", "but")),
                           min(j + 12, len(tokens)))
                if end > j:
                    out.append((tokens[j].start, tokens[end - 1].end))
    for phrase in _EXTRA_BACKWARD:
        words = phrase.split()
        for i in range(len(low) - len(words) + 1):
            if low[i : i + len(words)] == words:
                start = i
                while start > 0 and i - start < 6 and low[start - 1] not in (",", ";", "but", "and", "."):
                    start -= 1
                if start < i:
                    out.append((tokens[start].start, tokens[i - 1].end))
    return out


def mark_negated(doc: Document) -> Document:
    """Set ``negated`` on every mention of ``doc`` that starts inside a negation scope (in place)."""
    spans = doc.sentences or document_sentences(doc.text, [(s.start, s.end) for s in doc.sections]
                                                or [(0, len(doc.text))])
    scopes = [r for s in spans for r in negated_spans(doc.text, s)]
    for m in doc.mentions:
        m.negated = _inside(m, scopes)
    return doc


def _inside(m: Mention, scopes: list[tuple[int, int]]) -> bool:
    return any(a <= m.start < b for a, b in scopes)
