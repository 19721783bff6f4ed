"""Questions to the literature knowledge graph, and its export to CSV and GraphML.

Why these queries: they are the three a researcher asks first. "Which targets (genes) are linked to
disease X, ranked by evidence", "which drugs are linked to gene Y", and "what connects A and B"
(a direct edge or a path through one intermediate concept). Ranking is by the number of documents
that support an edge, then by the sum of the classifier's confidences (``LitRelation.score``), so a
relation read in twenty abstracts outranks one read once with high confidence.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from theralab.errors import InputError, NotFoundError
from theralab.literature.tables import LitDocument, LitEntity, LitEvidence, LitMention, LitRelation

ENTITY_KINDS = ("Chemical", "Disease", "Gene", "Species", "Variant")


@dataclass
class Edge:
    """One relation as a query answer."""

    relation_id: int
    type: str
    subject: str
    subject_name: str
    subject_type: str
    object: str
    object_name: str
    object_type: str
    documents: int
    first_year: int | None
    last_year: int | None
    confidence: float
    score: float


@dataclass
class Neighbour:
    """An entity linked to the queried one, with the edges that link them."""

    id: str
    name: str
    type: str
    documents: int
    score: float
    first_year: int | None
    last_year: int | None
    relation_types: list[str] = field(default_factory=list)


@dataclass
class Evidence:
    """One supporting sentence with its entity mentions as offsets into ``sentence``."""

    doc_id: str
    title: str
    year: int | None
    sentence: str
    confidence: float
    highlights: list[dict[str, Any]]


def resolve(session: Session, query: str, etype: str | None = None) -> LitEntity:
    """The entity an identifier or name means: exact id, then exact name, then a mention's text, then a prefix.

    Raises:
        InputError: for an empty query or an unknown type.
        NotFoundError: when nothing matches.
    """
    q = (query or "").strip()
    if not q or len(q) > 200:
        raise InputError("name an entity (1 to 200 characters)", where="query", hint="e.g. 'cisplatin' or MESH:D002945")
    if etype and etype not in ENTITY_KINDS:
        raise InputError(f"unknown entity type {etype!r}", where="type", hint=", ".join(ENTITY_KINDS))

    def typed(stmt: Any) -> Any:
        return stmt.where(LitEntity.type == etype) if etype else stmt

    ent = session.get(LitEntity, q)
    if ent is not None and (not etype or ent.type == etype):
        return ent
    order = (LitEntity.doc_count.desc(), LitEntity.id)
    low = q.lower()
    for cond in (func.lower(LitEntity.name) == low, func.lower(LitEntity.id) == low,
                 LitEntity.id.in_(select(LitMention.entity_id).where(func.lower(LitMention.text) == low)),
                 func.lower(LitEntity.name).like(_like(low) + "%", escape="\\")):
        ent = session.scalars(typed(select(LitEntity).where(cond)).order_by(*order)).first()
        if ent is not None:
            return ent
    raise NotFoundError(f"no {etype or 'entity'} named {query!r} in the literature graph",
                        hint="load documents first (theralab literature load) or try another spelling")


def search_entities(session: Session, text: str, etype: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """Entities whose name or identifier contains ``text`` (for autocompletion), most documents first."""
    low = _like((text or "").strip().lower())
    stmt = select(LitEntity).where(or_(func.lower(LitEntity.name).like(f"%{low}%", escape="\\"),
                                       func.lower(LitEntity.id).like(f"%{low}%", escape="\\")))
    if etype:
        stmt = stmt.where(LitEntity.type == etype)
    rows = session.scalars(stmt.order_by(LitEntity.doc_count.desc(), LitEntity.id).limit(max(1, min(limit, 200))))
    return [{"id": e.id, "name": e.name, "type": e.type, "documents": e.doc_count} for e in rows]


def neighbours(session: Session, entity: str, *, etype: str | None = None, relation_types: list[str] | None = None,
               min_documents: int = 1, limit: int = 50) -> list[Neighbour]:
    """Entities linked to ``entity`` (either direction), ranked by documents then score.

    ``neighbours(s, "asthma", etype="Gene")`` answers "targets for asthma ranked by evidence";
    ``neighbours(s, "EGFR", etype="Chemical")`` answers "drugs linked to EGFR".
    """
    ent = resolve(session, entity)
    other = aliased(LitEntity)
    found: dict[str, Neighbour] = {}
    rel_ids: dict[str, list[int]] = {}
    directions = ((LitRelation.subject_id, LitRelation.object_id), (LitRelation.object_id, LitRelation.subject_id))
    for mine, theirs in directions:
        stmt = select(LitRelation, other).join(other, other.id == theirs).where(mine == ent.id)
        if etype:
            stmt = stmt.where(other.type == etype)
        if relation_types:
            stmt = stmt.where(LitRelation.type.in_(relation_types))
        for rel, o in session.execute(stmt).all():
            n = found.get(o.id)
            if n is None:
                n = found[o.id] = Neighbour(o.id, o.name, o.type, 0, 0.0, rel.first_year, rel.last_year)
            rel_ids.setdefault(o.id, []).append(rel.id)
            n.score = round(n.score + rel.score, 4)
            n.first_year = _min(n.first_year, rel.first_year)
            n.last_year = _max(n.last_year, rel.last_year)
            if rel.type not in n.relation_types:
                n.relation_types.append(rel.type)
    all_ids = [i for ids in rel_ids.values() for i in ids]
    docs_of: dict[int, set[str]] = {}
    for chunk in range(0, len(all_ids), 500):
        for rid, doc_id in session.execute(select(LitEvidence.relation_id, LitEvidence.doc_id).where(
                LitEvidence.relation_id.in_(all_ids[chunk:chunk + 500]))).all():
            docs_of.setdefault(rid, set()).add(doc_id)
    for oid, n in found.items():  # distinct documents over all edges to this neighbour
        n.documents = len(set().union(*(docs_of.get(i, set()) for i in rel_ids[oid])))
    ranked = sorted((n for n in found.values() if n.documents >= min_documents),
                    key=lambda n: (-n.documents, -n.score, n.id))
    return ranked[: max(1, min(limit, 500))]


def edges_between(session: Session, a: str, b: str) -> list[Edge]:
    """Every direct relation between two entities (either direction)."""
    ea, eb = resolve(session, a), resolve(session, b)
    stmt = select(LitRelation).where(or_((LitRelation.subject_id == ea.id) & (LitRelation.object_id == eb.id),
                                         (LitRelation.subject_id == eb.id) & (LitRelation.object_id == ea.id)))
    return [_edge(session, r) for r in session.scalars(stmt.order_by(LitRelation.score.desc()))]


def connect(session: Session, a: str, b: str, *, limit: int = 25) -> dict[str, Any]:
    """What connects A and B: direct edges and paths ``A - M - B`` through one intermediate, best first.

    A path's strength is the weaker of its two edges' document counts (a chain is as strong as its
    weakest link), ties broken by the summed score.
    """
    ea, eb = resolve(session, a), resolve(session, b)
    direct = edges_between(session, ea.id, eb.id)
    near_a = {n.id: n for n in neighbours(session, ea.id, limit=500)}
    near_b = {n.id: n for n in neighbours(session, eb.id, limit=500)}
    paths = []
    for mid in set(near_a) & set(near_b) - {ea.id, eb.id}:
        na, nb = near_a[mid], near_b[mid]
        paths.append({"via": {"id": mid, "name": na.name, "type": na.type},
                      "strength": min(na.documents, nb.documents), "score": round(na.score + nb.score, 4),
                      "a_edge": na.relation_types, "b_edge": nb.relation_types,
                      "a_documents": na.documents, "b_documents": nb.documents})
    paths.sort(key=lambda p: (-p["strength"], -p["score"], p["via"]["id"]))
    return {"a": _entity(ea), "b": _entity(eb), "direct": [asdict(e) for e in direct], "paths": paths[:limit]}


def evidence(session: Session, a: str, b: str, *, limit: int = 50) -> list[Evidence]:
    """The sentences supporting every direct relation of A and B, each with its mentions to highlight."""
    out = []
    for edge in edges_between(session, a, b):
        rows = session.execute(select(LitEvidence, LitDocument).join(LitDocument, LitDocument.id == LitEvidence.doc_id)
                               .where(LitEvidence.relation_id == edge.relation_id)
                               .order_by(LitEvidence.confidence.desc(), LitEvidence.doc_id).limit(limit)).all()
        for ev, doc in rows:
            mentions = session.scalars(select(LitMention).where(LitMention.doc_id == doc.id,
                                                                LitMention.start >= ev.start,
                                                                LitMention.end <= ev.end).order_by(LitMention.start))
            marks = [{"start": m.start - ev.start, "end": m.end - ev.start, "type": m.type, "entity": m.entity_id,
                      "focus": m.entity_id in (edge.subject, edge.object)} for m in mentions]
            out.append(Evidence(doc.id, doc.title, doc.year, doc.text[ev.start:ev.end], ev.confidence, marks))
    return out[:limit]


def edges(session: Session, *, around: str | None = None, min_documents: int = 1, limit: int = 5000) -> list[Edge]:
    """Edges of the whole graph, or of one entity's neighbourhood (``around``), strongest first."""
    stmt = select(LitRelation).where(LitRelation.doc_count >= min_documents)
    if around:
        ent = resolve(session, around)
        stmt = stmt.where(or_(LitRelation.subject_id == ent.id, LitRelation.object_id == ent.id))
    rows = session.scalars(stmt.order_by(LitRelation.score.desc(), LitRelation.id).limit(max(1, min(limit, 100000))))
    return [_edge(session, r) for r in rows]


def to_networkx(session: Session, *, around: str | None = None, min_documents: int = 1) -> Any:
    """A ``networkx.MultiDiGraph``: nodes carry name and type, edges type, documents, years and score."""
    import networkx as nx

    g = nx.MultiDiGraph()
    for e in edges(session, around=around, min_documents=min_documents):
        g.add_node(e.subject, name=e.subject_name, type=e.subject_type)
        g.add_node(e.object, name=e.object_name, type=e.object_type)
        g.add_edge(e.subject, e.object, key=e.type, type=e.type, documents=e.documents,
                   first_year=e.first_year or 0, last_year=e.last_year or 0, score=e.score)
    return g


def export_csv(session: Session, *, around: str | None = None, min_documents: int = 1) -> str:
    """The edges as CSV text (one row per relation)."""
    buf = io.StringIO()
    fields = list(Edge.__dataclass_fields__)
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for e in edges(session, around=around, min_documents=min_documents):
        w.writerow(asdict(e))
    return buf.getvalue()


def export_graphml(session: Session, *, around: str | None = None, min_documents: int = 1) -> str:
    """The graph as GraphML text (Cytoscape, Gephi and networkx read it)."""
    import networkx as nx

    return "\n".join(nx.generate_graphml(to_networkx(session, around=around, min_documents=min_documents)))


def stats(session: Session) -> dict[str, Any]:
    """How much the graph holds: documents, entities by type, relations by type."""
    return {
        "documents": session.scalar(select(func.count()).select_from(LitDocument)) or 0,
        "entities": dict(session.execute(select(LitEntity.type, func.count()).group_by(LitEntity.type)).all()),
        "relations": dict(session.execute(select(LitRelation.type, func.count()).group_by(LitRelation.type)).all()),
    }


def _edge(session: Session, r: LitRelation) -> Edge:
    s, o = session.get(LitEntity, r.subject_id), session.get(LitEntity, r.object_id)
    return Edge(r.id, r.type, r.subject_id, s.name if s else r.subject_id, s.type if s else "",
                r.object_id, o.name if o else r.object_id, o.type if o else "", r.doc_count, r.first_year,
                r.last_year, round(r.max_confidence, 4), r.score)


def _entity(e: LitEntity) -> dict[str, Any]:
    return {"id": e.id, "name": e.name, "type": e.type, "documents": e.doc_count}


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _min(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)
