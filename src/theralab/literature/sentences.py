"""Sentence boundaries for biomedical text, as character spans into the text.

Why not split at every full stop: abstracts are dense with full stops that end nothing
("e.g.", "et al.", "i.v.", "Fig. 2", "1.5 mg", "E. coli", "Dr."), and a wrong split cuts a
mention or a relation's evidence in two. The rules here are few and explicit:

* a boundary is ``.``, ``?`` or ``!`` (with any closing quotes or brackets after it), then
  whitespace, then a word that starts with an upper-case letter, a digit or an opening bracket;
* no boundary after a known abbreviation (:data:`ABBREVIATIONS`), after dotted lower-case
  abbreviations (``i.v.``, ``b.i.d.``, ``s.c.``), or when the next word starts lower-case
  (``E. coli``, ``P. aeruginosa``);
* a blank line (paragraph break) always ends a sentence; single line breaks do not, because
  text extracted from PDFs wraps lines mid-sentence.

Offsets are half-open ``[start, end)``, with leading and trailing whitespace trimmed, so
``text[start:end]`` is the sentence as written, full stop included.
"""

from __future__ import annotations

import re

__all__ = ["ABBREVIATIONS", "document_sentences", "sentences"]

#: Words that end in a full stop without ending the sentence (compared lower-cased, stop included).
ABBREVIATIONS = frozenset(
    """
    al. e.g. i.e. etc. vs. viz. cf. approx. ca. fig. figs. ref. refs. eq. eqs. no. nos. vol. dr. prof. mr.
    mrs. ms. st. sp. spp. subsp. var. resp. inc. ltd. co. corp. dept. univ. jan. feb. mar. apr. jun. jul. aug.
    sep. sept. oct. nov. dec. min. max. avg. wt. temp. conc. p. pp. ed. eds. tab. suppl. chap. sec.
    """.split()
)

# A candidate boundary: terminal punctuation, optional closers, whitespace, then what follows.
_CANDIDATE = re.compile(r"[.?!][\"'\u201d\u2019)\]]*(?=\s+(\S))")
_DOTTED = re.compile(r"^(?:[a-z]\.){2,}$")  # i.v. b.i.d. s.c. i.p. p.o.
_PARAGRAPH = re.compile(r"\n[ \t]*\n")


def _word_before(text: str, end: int) -> str:
    """The whitespace-delimited word that ends at ``end`` (inclusive of the full stop)."""
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return text[start:end].lstrip("([{\"'\u201c")


def _is_boundary(text: str, match: re.Match[str]) -> bool:
    nxt = match.group(1)
    if not (nxt[0].isupper() or nxt[0].isdigit() or nxt[0] in "([\"'\u201c"):
        return False
    if text[match.start()] != ".":
        return True
    word = _word_before(text, match.start() + 1).lower()
    if word in ABBREVIATIONS or _DOTTED.match(word):
        return False
    # "et al." is in ABBREVIATIONS as "al."; a lone initial before a capitalised surname ("J. Smith")
    # is indistinguishable from "vitamin C. Patients", so a single letter splits.
    return True


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def sentences(text: str) -> list[tuple[int, int]]:
    """The sentences of ``text`` as ``[start, end)`` character spans, in order.

    Args:
        text: any string (an abstract, a title, a page of extracted text).

    Returns:
        Non-overlapping spans, whitespace trimmed; ``[]`` for blank text.
    """
    cuts: list[int] = [0]
    for para in _PARAGRAPH.finditer(text):
        cuts.append(para.end())
    for match in _CANDIDATE.finditer(text):
        if _is_boundary(text, match):
            cuts.append(match.end())
    cuts = sorted(set(cuts)) + [len(text)]
    out: list[tuple[int, int]] = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        span = _trimmed(text, start, end)
        if span:
            out.append(span)
    return out


def document_sentences(text: str, sections: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sentences within each section span, so a title without a full stop stays its own sentence.

    Args:
        text: the document text.
        sections: ``[start, end)`` spans (e.g. title and abstract of a PubMed record).

    Returns:
        Sentence spans of every section, in text order, offsets into ``text``.
    """
    out: list[tuple[int, int]] = []
    for start, end in sorted(sections):
        out.extend((start + s, start + e) for s, e in sentences(text[start:end]))
    return out
