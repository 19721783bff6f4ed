"""The one document model of literature mining: text, sections, sentences, mentions, relations.

Why one model: every reader (PubMed XML, PubTator, BioC JSON, plain text) produces it, the entity
tagger fills its mentions, the relation classifier its relations, and the knowledge graph stores
it, so offsets mean the same thing at every step. All offsets are character offsets into
:attr:`Document.text`, half-open ``[start, end)``; for PubMed records ``text`` is
``title + " " + abstract`` (the PubTator convention, so BC5CDR offsets apply unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass, field

ENTITY_TYPES = ("Chemical", "Disease", "Gene", "Species", "Variant")


@dataclass(frozen=True)
class Section:
    """A named part of the text (``title``, ``abstract``, ``methods``...) as ``[start, end)``."""

    name: str
    start: int
    end: int


@dataclass
class Mention:
    """One entity mention.

    Attributes:
        start: first character, into :attr:`Document.text`.
        end: one past the last character.
        text: ``document.text[start:end]``.
        type: one of :data:`ENTITY_TYPES`.
        identifier: normalised concept (``MESH:D003000``, ``HGNC:ABCB1``), ``None`` when unknown.
        confidence: the tagger's and normaliser's confidence in [0, 1].
        negated: the sentence states its absence ("no evidence of hepatotoxicity").
        source: what found it (``model``, ``gazetteer``, ``abbreviation``, ``gold``).
    """

    start: int
    end: int
    text: str
    type: str
    identifier: str | None = None
    confidence: float = 1.0
    negated: bool = False
    source: str = "model"


@dataclass
class Relation:
    """A typed relation between two concepts of one document, with the sentence that shows it.

    Attributes:
        type: ``CID`` (chemical induces disease), ``CPR:3`` .. ``CPR:9`` (ChemProt chemical-gene
            classes: upregulator, downregulator, agonist, antagonist, substrate), ``GDA``
            (gene-disease association).
        subject: identifier of the first argument (the chemical for CID and ChemProt).
        object: identifier of the second argument.
        confidence: the classifier's probability.
        evidence: ``[start, end)`` of the evidence sentence in :attr:`Document.text`, if known.
    """

    type: str
    subject: str
    object: str
    confidence: float = 1.0
    evidence: tuple[int, int] | None = None


@dataclass
class Document:
    """One paper (or any text) with everything extracted from it.

    Attributes:
        id: PMID, PMCID, DOI or the file's own id; unique within a batch.
        title: the title ("" for plain text).
        abstract: the abstract or body.
        text: the string all offsets point into.
        sections: named spans of ``text``.
        sentences: ``[start, end)`` per sentence of ``text``.
        year: publication year, when the reader knows it.
        mentions: entity mentions, sorted by start.
        relations: relations between mentioned concepts.
        meta: anything else the reader kept (journal, authors, MeSH headings).
    """

    id: str
    title: str = ""
    abstract: str = ""
    text: str = ""
    sections: list[Section] = field(default_factory=list)
    sentences: list[tuple[int, int]] = field(default_factory=list)
    year: int | None = None
    mentions: list[Mention] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    meta: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_title_abstract(cls, id: str, title: str, abstract: str, **kwargs: object) -> Document:
        """A document whose text is ``title + " " + abstract`` with its two sections (PubTator offsets)."""
        text = f"{title} {abstract}" if abstract else title
        sections = [Section("title", 0, len(title))]
        if abstract:
            sections.append(Section("abstract", len(title) + 1, len(text)))
        return cls(id=id, title=title, abstract=abstract, text=text, sections=sections, **kwargs)  # type: ignore[arg-type]

    def sentence_of(self, offset: int) -> tuple[int, int] | None:
        """The sentence span holding character ``offset``, or ``None``."""
        for start, end in self.sentences:
            if start <= offset < end:
                return (start, end)
        return None


@dataclass
class DocumentError:
    """A document a batch could not read or process: where and why (the batch keeps the others)."""

    where: str
    reason: str
