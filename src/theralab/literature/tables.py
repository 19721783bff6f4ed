"""The literature knowledge graph in the database: documents, entities, mentions, relations, evidence.

Why these five tables: a researcher asks "which genes are linked to this disease, by how many papers,
since when, and show me the sentences". Entities are concepts (``MESH:D003000``, ``HGNC:EGFR``),
relations are typed edges between two entities with their aggregate (number of documents, first
and last year, best confidence) kept up to date on every load, and each piece of evidence is one
sentence of one document, so any edge clicks through to what was read. Loading the same document
again replaces its mentions and evidence (idempotent), and the aggregates are recomputed for the
edges it touched. Created by migration ``0011_litkg``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from theralab.literature.documents import Document
from theralab.runtime.db import Base, UTCDateTime, utcnow


class LitDocument(Base):
    """One loaded paper (PMID or file id) with its text, so evidence offsets can be shown."""

    __tablename__ = "lit_documents"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    year: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    journal: Mapped[str] = mapped_column(String(300), default="")
    source: Mapped[str] = mapped_column(String(40), default="")
    loaded_by: Mapped[str] = mapped_column(String(100), default="")
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LitEntity(Base):
    """A concept: identifier, type, preferred name (its most frequent mention) and document count."""

    __tablename__ = "lit_entities"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    type: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(300), default="", index=True)
    doc_count: Mapped[int] = mapped_column(Integer, default=0)


class LitMention(Base):
    """A mention of an entity in a document, ``[start, end)`` into the document's text."""

    __tablename__ = "lit_mentions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    doc_id: Mapped[str] = mapped_column(String(128), ForeignKey("lit_documents.id", ondelete="CASCADE"), index=True)
    entity_id: Mapped[str | None] = mapped_column(String(200), ForeignKey("lit_entities.id"), nullable=True,
                                                  index=True)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(500))
    type: Mapped[str] = mapped_column(String(20))
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    negated: Mapped[bool] = mapped_column(Boolean, default=False)


class LitRelation(Base):
    """A typed edge ``subject -> object`` with its aggregate over documents."""

    __tablename__ = "lit_relations"
    __table_args__ = (UniqueConstraint("type", "subject_id", "object_id", name="uq_lit_relations_edge"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(12), index=True)
    subject_id: Mapped[str] = mapped_column(String(200), ForeignKey("lit_entities.id"), index=True)
    object_id: Mapped[str] = mapped_column(String(200), ForeignKey("lit_entities.id"), index=True)
    doc_count: Mapped[int] = mapped_column(Integer, default=0)
    first_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_confidence: Mapped[float] = mapped_column(Float, default=0.0)
    score: Mapped[float] = mapped_column(Float, default=0.0)


class LitEvidence(Base):
    """One sentence of one document that supports a relation."""

    __tablename__ = "lit_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    relation_id: Mapped[int] = mapped_column(Integer, ForeignKey("lit_relations.id", ondelete="CASCADE"), index=True)
    doc_id: Mapped[str] = mapped_column(String(128), ForeignKey("lit_documents.id", ondelete="CASCADE"), index=True)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    confidence: Mapped[float] = mapped_column(Float, default=1.0)


def literature_tables() -> list[object]:
    """The ``Table`` objects of this module."""
    return [t.__table__ for t in (LitDocument, LitEntity, LitMention, LitRelation, LitEvidence)]


def load_documents(session: Session, docs: Iterable[Document], *, user: str = "") -> dict[str, int]:
    """Store documents with their mentions and relations; a document loaded before is replaced.

    Relations whose subject or object has no mention with that identifier still create the entity
    (type guessed from the relation). Returns counts of what was written.
    """
    docs = list(docs)
    touched_rel: set[int] = set()
    touched_ent: set[str] = set()
    ids = [d.id for d in docs]
    if ids:  # forget what an earlier load of these documents said
        old = session.scalars(select(LitEvidence.relation_id).where(LitEvidence.doc_id.in_(ids))).all()
        touched_rel.update(old)
        touched_ent.update(e for e in session.scalars(select(LitMention.entity_id).where(
            LitMention.doc_id.in_(ids))).all() if e)
        session.execute(delete(LitEvidence).where(LitEvidence.doc_id.in_(ids)))
        session.execute(delete(LitMention).where(LitMention.doc_id.in_(ids)))
        session.flush()
    entities: dict[str, LitEntity] = {}

    def entity(ident: str, etype: str) -> LitEntity:
        if ident not in entities:
            row = session.get(LitEntity, ident)
            if row is None:
                row = LitEntity(id=ident, type=etype, name="", doc_count=0)
                session.add(row)
            entities[ident] = row
        touched_ent.add(ident)
        return entities[ident]

    rel_cache: dict[tuple[str, str, str], LitRelation] = {}
    n_mentions = n_evidence = 0
    for doc in docs:
        row = session.get(LitDocument, doc.id) or LitDocument(id=doc.id)
        row.title, row.text, row.year = doc.title[:10000], doc.text, doc.year
        row.journal = str(doc.meta.get("journal") or "")[:300]
        row.source, row.loaded_by, row.loaded_at = str(doc.meta.get("source") or "")[:40], user[:100], utcnow()
        session.add(row)
        types: dict[str, str] = {}
        for m in doc.mentions:
            ident = _ident(m.identifier)
            if ident:
                entity(ident, m.type)
                types[ident] = m.type
            session.add(LitMention(doc_id=doc.id, entity_id=ident, start=m.start, end=m.end, text=m.text[:500],
                                   type=m.type, confidence=float(m.confidence), negated=bool(m.negated)))
            n_mentions += 1
        session.flush()
        for r in doc.relations:
            subj, obj = _ident(r.subject), _ident(r.object)
            if not subj or not obj:
                continue
            st, ot = _relation_types(r.type)
            entity(subj, types.get(subj, st))
            entity(obj, types.get(obj, ot))
            key = (r.type, subj, obj)
            rel = rel_cache.get(key)
            if rel is None:
                rel = session.scalars(select(LitRelation).where(
                    LitRelation.type == r.type, LitRelation.subject_id == subj, LitRelation.object_id == obj)).first()
                if rel is None:
                    rel = LitRelation(type=r.type, subject_id=subj, object_id=obj)
                    session.add(rel)
                    session.flush()
                rel_cache[key] = rel
            start, end = r.evidence or (0, min(len(doc.text), 300))
            session.add(LitEvidence(relation_id=rel.id, doc_id=doc.id, start=start, end=end,
                                    confidence=float(r.confidence)))
            touched_rel.add(rel.id)
            n_evidence += 1
    session.flush()
    _refresh(session, touched_rel, touched_ent)
    return {"documents": len(docs), "mentions": n_mentions, "evidence": n_evidence, "relations": len(touched_rel),
            "entities": len(touched_ent)}


def _ident(identifier: str | None) -> str | None:
    if not identifier or identifier in ("-1", "-", "None"):
        return None
    ident = identifier.split("|")[0].strip()
    if ":" not in ident and ident[:1] in ("C", "D") and ident[1:].isdigit():
        ident = f"MESH:{ident}"
    return ident[:200] or None


def _relation_types(rtype: str) -> tuple[str, str]:
    if rtype == "CID":
        return "Chemical", "Disease"
    if rtype == "GDA":
        return "Gene", "Disease"
    return "Chemical", "Gene"


def _refresh(session: Session, relation_ids: set[int], entity_ids: set[str]) -> None:
    """Recompute the aggregates of the touched relations and entities; drop edges left without evidence."""
    for chunk in _chunks(sorted(relation_ids)):
        stats = session.execute(
            select(LitEvidence.relation_id, func.count(func.distinct(LitEvidence.doc_id)), func.min(LitDocument.year),
                   func.max(LitDocument.year), func.max(LitEvidence.confidence), func.sum(LitEvidence.confidence))
            .join(LitDocument, LitDocument.id == LitEvidence.doc_id)
            .where(LitEvidence.relation_id.in_(chunk)).group_by(LitEvidence.relation_id)).all()
        seen = set()
        for rid, n, y0, y1, cmax, csum in stats:
            rel = session.get(LitRelation, rid)
            rel.doc_count, rel.first_year, rel.last_year = int(n), y0, y1
            rel.max_confidence = float(cmax or 0)
            rel.score = round(float(n) + float(csum or 0) / 10.0, 4)  # documents first, confidence breaks ties
            seen.add(rid)
        for rid in set(chunk) - seen:
            rel = session.get(LitRelation, rid)
            if rel is not None:
                session.delete(rel)
    for chunk in _chunks(sorted(entity_ids)):
        counts = dict(session.execute(select(LitMention.entity_id, func.count(func.distinct(LitMention.doc_id)))
                                      .where(LitMention.entity_id.in_(chunk)).group_by(LitMention.entity_id)).all())
        names: dict[str, Counter[str]] = defaultdict(Counter)
        for ent, text in session.execute(select(LitMention.entity_id, LitMention.text)
                                         .where(LitMention.entity_id.in_(chunk))).all():
            names[ent][text] += 1
        for ident in chunk:
            ent = session.get(LitEntity, ident)
            if ent is None:
                continue
            ent.doc_count = int(counts.get(ident, 0))
            if names.get(ident):
                ent.name = names[ident].most_common(1)[0][0][:300]
            elif not ent.name:
                ent.name = ident
    session.flush()


def _chunks(items: list, size: int = 500) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
