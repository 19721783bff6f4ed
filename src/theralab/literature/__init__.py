"""Literature mining: read papers, tag chemicals, diseases and genes, extract relations, build a graph."""

from theralab.literature.documents import ENTITY_TYPES, Document, DocumentError, Mention, Relation, Section
from theralab.literature.sentences import document_sentences, sentences

__all__ = [
    "ENTITY_TYPES",
    "Document",
    "DocumentError",
    "Mention",
    "Relation",
    "Section",
    "document_sentences",
    "sentences",
]
