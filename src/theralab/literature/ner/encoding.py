"""From documents to encoder windows and back: words, sub-word pieces, BIO labels and spans.

Why words first: mentions start and end on word boundaries of the project tokeniser
(:func:`theralab.nlp.tokens.tokenize` splits ``[3H]-naloxone`` into ``[ 3 H ] - naloxone``, and
every BC5CDR training mention aligns with it), so the tagger labels words (its first sub-word
piece carries the label) and a span maps back to exact character offsets: the first word's start
to the last word's end. Windows are whole sentences packed up to :data:`MAX_PIECES` pieces, so
the encoder sees the neighbouring sentences as context and never cuts a mention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from theralab.literature.documents import Document
from theralab.literature.sentences import document_sentences
from theralab.nlp.tokens import Token, tokenize

MAX_PIECES = 254  # + [CLS] and [SEP] = 256
MAX_PIECES_PER_WORD = 12  # long IUPAC names: later pieces add little and cost attention
HEADS: dict[str, tuple[str, ...]] = {
    "cdr": ("O", "B-Chemical", "I-Chemical", "B-Disease", "I-Disease"),
    "gene": ("O", "B-Gene", "I-Gene"),
}
IGNORE = -100
SHAPES = 5


def word_shape(word: str) -> int:
    """0 lower, 1 Capitalised, 2 ALL CAPS, 3 mixed (mRNA, HbA1c), 4 no letters: case the uncased encoder loses."""
    letters = [c for c in word if c.isalpha()]
    if not letters:
        return 4
    if all(c.islower() for c in letters):
        return 0
    if all(c.isupper() for c in letters):
        return 2 if len(letters) > 1 else 1
    if letters[0].isupper() and all(c.islower() for c in letters[1:]):
        return 1
    return 3


@dataclass
class Window:
    """One encoder input: a run of whole sentences of one document."""

    doc: int
    words: list[Token]
    input_ids: list[int]
    first: list[int]  # position in input_ids (after [CLS]) of each word's first piece
    shapes: list[int]
    labels: dict[str, list[int]] = field(default_factory=dict)
    breaks: list[int] = field(default_factory=lambda: [0])  # word index where each sentence starts


def doc_sentences(doc: Document) -> list[tuple[int, int]]:
    """The document's sentences, computed per section when the reader did not give them."""
    if doc.sentences:
        return doc.sentences
    sections = [(s.start, s.end) for s in doc.sections] or [(0, len(doc.text))]
    return document_sentences(doc.text, sections)


def word_labels(words: list[Token], mentions: list[Any], labels: tuple[str, ...]) -> list[int]:
    """BIO label ids of ``words`` for the mentions whose type the head knows (others are O)."""
    index = {name: i for i, name in enumerate(labels)}
    out = [0] * len(words)
    starts = {w.start: i for i, w in enumerate(words)}
    for m in mentions:
        if f"B-{m.type}" not in index or m.start not in starts:
            continue
        i = starts[m.start]
        out[i] = index[f"B-{m.type}"]
        i += 1
        while i < len(words) and words[i].end <= m.end:
            out[i] = index[f"I-{m.type}"]
            i += 1
    return out


def windows(docs: list[Document], tokenizer: Any, heads: dict[str, list[int]] | None = None) -> list[Window]:
    """Encoder windows of every document, with labels for the heads named in ``heads``.

    Args:
        docs: documents (their ``mentions`` are the gold labels when ``heads`` is given).
        tokenizer: a Hugging Face fast tokenizer of the encoder.
        heads: head name -> indices of the documents whose mentions train that head (a corpus
            annotates some types only: BC5CDR has no genes, ChemProt no diseases); words of other
            documents get :data:`IGNORE` for that head.
    """
    out: list[Window] = []
    for d, doc in enumerate(docs):
        words = tokenize(doc.text)
        if not words:
            continue
        pieces = tokenizer([w.text for w in words], is_split_into_words=True, add_special_tokens=False)
        per_word: list[list[int]] = [[] for _ in words]
        for piece, w in zip(pieces["input_ids"], pieces.word_ids(), strict=True):
            if w is not None and len(per_word[w]) < MAX_PIECES_PER_WORD:
                per_word[w].append(piece)
        for i, ids in enumerate(per_word):
            if not ids:
                per_word[i] = [tokenizer.unk_token_id]
        labels = {}
        for head, members in (heads or {}).items():
            if d in members:
                labels[head] = word_labels(words, doc.mentions, HEADS[head])
            else:
                labels[head] = [IGNORE] * len(words)
        sents = doc_sentences(doc)
        starts = _sentence_starts(words, sents)
        for lo, hi in _packed(words, per_word, sents):
            ids, first = [tokenizer.cls_token_id], []
            for i in range(lo, hi):
                first.append(len(ids))
                ids.extend(per_word[i])
            ids.append(tokenizer.sep_token_id)
            out.append(Window(d, words[lo:hi], ids, first, [word_shape(w.text) for w in words[lo:hi]],
                              {h: v[lo:hi] for h, v in labels.items()},
                              sorted({0} | {k - lo for k in starts if lo < k < hi})))
    return out


def _sentence_starts(words: list[Token], sents: list[tuple[int, int]]) -> set[int]:
    """Indices of the words that open a sentence."""
    out, i = set(), 0
    for s, _e in sorted(sents):
        while i < len(words) and words[i].start < s:
            i += 1
        out.add(i)
    return out


def _packed(words: list[Token], per_word: list[list[int]], sents: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Word ranges of windows: whole sentences up to MAX_PIECES pieces (a longer sentence is cut)."""
    bounds: list[tuple[int, int]] = []  # word range per sentence
    i = 0
    for _s, e in sorted(sents):
        lo = i
        while i < len(words) and words[i].start < e:
            i += 1
        if i > lo:
            bounds.append((lo, i))
    if i < len(words):
        bounds.append((i, len(words)))
    out: list[tuple[int, int]] = []
    lo, size = None, 0
    for s_lo, s_hi in bounds:
        n = sum(len(p) for p in per_word[s_lo:s_hi])
        if lo is not None and size + n > MAX_PIECES:
            out.append((lo, s_lo))
            lo, size = None, 0
        if n > MAX_PIECES:  # one very long sentence: cut at word boundaries
            start, size = s_lo, 0
            for k in range(s_lo, s_hi):
                if size + len(per_word[k]) > MAX_PIECES and k > start:
                    out.append((start, k))
                    start, size = k, 0
                size += len(per_word[k])
            lo = start
            continue
        if lo is None:
            lo = s_lo
        size += n
    if lo is not None:
        out.append((lo, bounds[-1][1]))
    return out


def decode(words: list[Token], path: list[int], probs: list[list[float]],
           labels: tuple[str, ...]) -> list[tuple[int, int, str, float]]:
    """Spans ``(start, end, type, confidence)`` from a label path and per-word label probabilities.

    An ``I-`` after ``O`` or after another type opens a new mention (BIO repair); the confidence
    is the mean probability of the path's labels over the mention's words.
    """
    out: list[tuple[int, int, str, float]] = []
    cur: list[Any] | None = None
    for w, k, p in zip(words, path, probs, strict=True):
        tag = labels[k]
        if tag == "O":
            cur = _close(cur, out)
            continue
        kind, typ = tag.split("-", 1)
        if kind == "B" or cur is None or cur[2] != typ:
            cur = _close(cur, out)
            cur = [w.start, w.end, typ, [p[k]]]
        else:
            cur[1] = w.end
            cur[3].append(p[k])
    _close(cur, out)
    return out


def _close(cur: list[Any] | None, out: list[tuple[int, int, str, float]]) -> None:
    if cur is not None:
        out.append((cur[0], cur[1], cur[2], sum(cur[3]) / len(cur[3])))
    return None
