"""Read PubTator files (BioCreative V CDR and other PubMed corpora): title, abstract, mentions.

Why here: the criteria NER pre-trains its word vectors on biomedical abstracts as well as criteria
text (words such as drug and disease names that the labelled trials never show), and the
literature-mining capability will read the same format with its annotations. The format: per
document a ``PMID|t|title`` line, a ``PMID|a|abstract`` line, then tab-separated mention lines
``PMID, start, end, text, type, identifier`` (offsets into ``title + " " + abstract``) and relation
lines ``PMID, relation, id1, id2``; documents are separated by blank lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from theralab.errors import InputError
from theralab.nlp.tokens import Token, tokenize


@dataclass(frozen=True)
class Mention:
    """An annotated mention: [start, end) into :attr:`PubTatorDoc.text`, its type and concept id."""

    start: int
    end: int
    text: str
    type: str
    concept: str


@dataclass
class PubTatorDoc:
    """One PubMed record of a PubTator file."""

    pmid: str
    title: str = ""
    abstract: str = ""
    mentions: list[Mention] = field(default_factory=list)
    relations: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def text(self) -> str:
        """Title and abstract joined by one space: the string the mention offsets point into."""
        return f"{self.title} {self.abstract}" if self.abstract else self.title


def read_pubtator(path: Path) -> list[PubTatorDoc]:
    """Every document of one PubTator file, in file order.

    Raises:
        InputError: naming the file and line of a malformed line (a mention whose offsets are not
            integers, or a line that is neither a text, mention nor relation line).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"PubTator file {path} does not exist")
    docs: dict[str, PubTatorDoc] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        head = line.split("|", 2)
        if len(head) == 3 and head[1] in ("t", "a") and "\t" not in head[0]:
            doc = docs.setdefault(head[0], PubTatorDoc(head[0]))
            if head[1] == "t":
                doc.title = head[2]
            else:
                doc.abstract = head[2]
            continue
        cols = line.split("\t")
        doc = docs.setdefault(cols[0], PubTatorDoc(cols[0]))
        if len(cols) >= 6:
            try:
                start, end = int(cols[1]), int(cols[2])
            except ValueError:
                raise InputError(f"mention offsets {cols[1]!r}, {cols[2]!r} are not integers", where=where) from None
            doc.mentions.append(Mention(start, end, cols[3], cols[4], cols[5]))
        elif len(cols) == 4:
            doc.relations.append((cols[1], cols[2], cols[3]))
        else:
            raise InputError(f"not a PubTator text, mention or relation line: {line[:60]!r}", where=where)
    return list(docs.values())


def pubtator_docs(folder: Path) -> list[PubTatorDoc]:
    """Every document of every ``*.PubTator.txt`` (or ``*.pubtator``) file of ``folder``, files sorted by name.

    Raises:
        InputError: when the folder holds no PubTator file.
    """
    folder = Path(folder)
    files = sorted([*folder.glob("*.PubTator.txt"), *folder.glob("*.pubtator")]) if folder.is_dir() else []
    if not files:
        raise InputError(f"no *.PubTator.txt files in {folder}", hint="point to ../shared/data/literature/bc5cdr")
    return [d for f in files for d in read_pubtator(f)]


def pubtator_texts(folder: Path) -> list[str]:
    """Title + abstract of every document of :func:`pubtator_docs` (unlabelled text for word vectors)."""
    return [d.text for d in pubtator_docs(folder)]


def bio_sentences(doc: PubTatorDoc) -> list[tuple[list[Token], list[str]]]:
    """(tokens, BIO labels of the mention types) per sentence of one document's title and abstract.

    Sentences end at ``.``, ``?`` or ``!`` followed by a capitalised word (good enough for a training
    signal; abbreviations such as "e.g. Aspirin" split a sentence early, which costs nothing here).
    Why: the annotated Disease and Chemical mentions of a corpus such as BC5CDR can train an auxiliary
    head beside the criteria tagger (multi-task learning), so its encoder sees many more condition and
    drug names than the criteria corpus holds.
    """
    toks = tokenize(doc.text)
    labels = ["O"] * len(toks)
    for m in doc.mentions:
        inside = [i for i, t in enumerate(toks) if t.start < m.end and t.end > m.start]
        for k, i in enumerate(inside):
            labels[i] = ("B-" if k == 0 else "I-") + m.type
    out, begin = [], 0
    for i, t in enumerate(toks):
        last = i + 1 == len(toks)
        if last or (t.text in (".", "?", "!") and toks[i + 1].text[:1].isupper()):
            if i + 1 > begin:
                out.append((toks[begin : i + 1], labels[begin : i + 1]))
            begin = i + 1
    return out

