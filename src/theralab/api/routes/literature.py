"""``/v1/literature``: extract entities and relations from uploaded papers; query the knowledge graph.

Papers arrive as uploads (PubMed XML, PubTator, BioC JSON or text), never as server paths. Bad
documents come back as per-document errors beside the good ones; a file with no good document is
a 422 naming why. Reading the graph is open to researchers and clinicians; loading into it is
for researchers. Every route checks its role and writes an audit event (identifiers only).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from theralab.api.schemas import response_model_of
from theralab.api.uploads import read_upload
from theralab.errors import InputError
from theralab.literature.graph import Edge, Neighbour
from theralab.privacy.deps import Principal, SessionDep, require_roles

router = APIRouter(prefix="/literature", tags=["literature"])
Reader = Annotated[Principal, Depends(require_roles("researcher", "clinician"))]
Loader = Annotated[Principal, Depends(require_roles("researcher"))]
MAX_UPLOAD = 20 * 1024 * 1024
MAX_DOCS = 2000
MAX_TAGGED = 200  # documents the tagger reads inline (~0.5 s each on a CPU); more belong to the command line
Fmt = Literal["auto", "pubmed-xml", "pubtator", "bioc-json", "text"]
EntityType = Literal["Chemical", "Disease", "Gene", "Species", "Variant"]
RelType = Literal["CID", "CPR:3", "CPR:4", "CPR:5", "CPR:6", "CPR:9", "GDA"]
Name = Annotated[str, Query(min_length=1, max_length=200, description="identifier (MESH:D002945) or name")]


class MentionOut(BaseModel):
    """An entity mention, ``[start, end)`` into the document's text."""

    start: int
    end: int
    text: str
    type: str
    identifier: str | None
    confidence: float
    negated: bool


class RelationOut(BaseModel):
    """A relation with its evidence sentence."""

    type: str
    subject: str
    object: str
    confidence: float
    evidence: list[int] | None
    sentence: str | None


class DocumentOut(BaseModel):
    """One processed document."""

    id: str
    title: str
    year: int | None
    text: str
    mentions: list[MentionOut]
    relations: list[RelationOut]


class ErrorOut(BaseModel):
    """A document that could not be read or processed."""

    where: str
    reason: str


class ExtractOut(BaseModel):
    """Processed documents and the ones left out; ``loaded`` counts what went into the graph."""

    documents: list[DocumentOut]
    errors: list[ErrorOut]
    loaded: dict[str, int] | None = None


class EntityOut(BaseModel):
    """An entity of the graph."""

    id: str
    name: str
    type: str
    documents: int


NeighbourOut = response_model_of(Neighbour, "NeighbourOut",
                                 doc="An entity linked to the queried one, ranked by evidence.")


class NeighboursOut(BaseModel):
    """The queried entity and its ranked neighbours."""

    entity: EntityOut
    neighbours: list[NeighbourOut]


EdgeOut = response_model_of(Edge, "EdgeOut", doc="One relation of the graph with its aggregate.")


class ViaOut(BaseModel):
    """The intermediate entity of a path."""

    id: str
    name: str
    type: str


class PathOut(BaseModel):
    """A path A - via - B."""

    via: ViaOut
    strength: int
    score: float
    a_edge: list[str]
    b_edge: list[str]
    a_documents: int
    b_documents: int


class ConnectOut(BaseModel):
    """What connects A and B."""

    a: EntityOut
    b: EntityOut
    direct: list[EdgeOut]
    paths: list[PathOut]


class HighlightOut(BaseModel):
    """A mention inside an evidence sentence (offsets into the sentence)."""

    start: int
    end: int
    type: str
    entity: str | None
    focus: bool


class EvidenceOut(BaseModel):
    """One supporting sentence."""

    doc_id: str
    title: str
    year: int | None
    sentence: str
    confidence: float
    highlights: list[HighlightOut]


class StatsOut(BaseModel):
    """What the graph holds."""

    documents: int
    entities: dict[str, int]
    relations: dict[str, int]


async def _read(upload: UploadFile, fmt: str, retag: bool) -> tuple[list[Any], list[Any]]:
    from theralab.literature.pipeline import process
    from theralab.literature.readers import read_bytes

    data = await read_upload(upload, MAX_UPLOAD, hint="split it, or use the command line: theralab literature load")
    name = (upload.filename or "upload").replace("/", "_").replace("\\", "_")[-200:]
    docs, errors = read_bytes(data, name, None if fmt == "auto" else fmt)
    if len(docs) > MAX_DOCS:
        raise InputError(f"{len(docs)} documents in one upload; at most {MAX_DOCS}", where="file",
                         hint="split the file, or use the command line")
    if not docs:
        why = "; ".join(f"{e.where}: {e.reason}" for e in errors[:5]) or "no documents found"
        raise InputError(f"no readable document in the upload ({why})", where="file")
    to_tag = sum(1 for d in docs if retag or not d.mentions)
    if to_tag > MAX_TAGGED:
        raise InputError(f"{to_tag} documents to tag in one request; at most {MAX_TAGGED}", where="file",
                         hint="tagging takes about half a second per abstract: split the file, or run "
                              "'theralab literature load FILE' on the command line")
    done, failed = process(docs, retag=retag)
    return done, errors + failed


def _extract_out(docs: list[Any], errors: list[Any], loaded: dict[str, int] | None = None) -> ExtractOut:
    from theralab.literature.pipeline import to_dict

    out = []
    for d in docs:
        data = to_dict(d)
        out.append(DocumentOut(id=d.id, title=d.title, year=d.year, text=d.text,
                               mentions=[MentionOut(**{k: m[k] for k in MentionOut.model_fields})
                                         for m in data["mentions"]],
                               relations=[RelationOut(**{k: r[k] for k in RelationOut.model_fields})
                                          for r in data["relations"]]))
    return ExtractOut(documents=out, errors=[ErrorOut(where=e.where, reason=e.reason) for e in errors],
                      loaded=loaded)


@router.post("/extract", response_model=ExtractOut)
async def extract(user: Reader,
                  file: Annotated[UploadFile, File(description="PubMed XML, PubTator, BioC JSON or text")],
                  format: Annotated[Fmt, Form(description="reader (auto: from name and content)")] = "auto",
                  retag: Annotated[bool, Form(description="tag again even when annotations are given")] = False
                  ) -> ExtractOut:
    """Entities and relations (with evidence sentences) of every document of an uploaded file."""
    docs, errors = await _read(file, format, retag)
    user.audit("literature.extract", "Upload", (file.filename or "")[:100])
    return _extract_out(docs, errors)


@router.post("/load", response_model=ExtractOut)
async def load(user: Loader, session: SessionDep,
               file: Annotated[UploadFile, File(description="PubMed XML, PubTator, BioC JSON or text")],
               format: Annotated[Fmt, Form(description="reader (auto: from name and content)")] = "auto",
               retag: Annotated[bool, Form(description="tag again even when annotations are given")] = False
               ) -> ExtractOut:
    """Extract as ``/extract`` and store the documents, entities and relations in the knowledge graph."""
    from theralab.literature.tables import load_documents

    docs, errors = await _read(file, format, retag)
    counts = load_documents(session, docs, user=user.username)
    user.audit("literature.load", "LiteratureGraph", f"{counts['documents']} documents", session=session)
    return _extract_out(docs, errors, counts)


@router.get("/stats", response_model=StatsOut)
def stats(user: Reader, session: SessionDep) -> StatsOut:
    """How many documents, entities and relations the graph holds."""
    from theralab.literature.graph import stats as graph_stats

    user.audit("literature.stats", "LiteratureGraph", "", session=session)
    return StatsOut(**graph_stats(session))


@router.get("/entities", response_model=list[EntityOut])
def entities(user: Reader, session: SessionDep, q: Annotated[str, Query(max_length=200)] = "",
             type: EntityType | None = None, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> list[EntityOut]:
    """Entities whose name or identifier contains ``q`` (most documents first)."""
    from theralab.literature.graph import search_entities

    user.audit("literature.entities", "LiteratureGraph", q[:100], session=session)
    return [EntityOut(**e) for e in search_entities(session, q, type, limit)]


@router.get("/neighbours", response_model=NeighboursOut)
def neighbours(user: Reader, session: SessionDep, entity: Name, type: EntityType | None = None,
               relation_type: Annotated[list[RelType] | None, Query()] = None,
               limit: Annotated[int, Query(ge=1, le=500)] = 50) -> NeighboursOut:
    """Entities linked to ``entity``, ranked by documents: ``type=Gene`` gives targets of a disease."""
    from theralab.literature.graph import neighbours as ranked
    from theralab.literature.graph import resolve

    ent = resolve(session, entity)
    rows = ranked(session, ent.id, etype=type, relation_types=list(relation_type or []) or None, limit=limit)
    user.audit("literature.neighbours", "LiteratureEntity", ent.id, session=session)
    return NeighboursOut(entity=EntityOut(id=ent.id, name=ent.name, type=ent.type, documents=ent.doc_count),
                         neighbours=[NeighbourOut(**vars(n)) for n in rows])


@router.get("/connect", response_model=ConnectOut)
def connect(user: Reader, session: SessionDep, a: Name, b: Name,
            limit: Annotated[int, Query(ge=1, le=200)] = 25) -> ConnectOut:
    """Direct relations between A and B and paths through one intermediate entity."""
    from theralab.literature.graph import connect as find

    res = find(session, a, b, limit=limit)
    user.audit("literature.connect", "LiteratureEntity", f"{res['a']['id']}~{res['b']['id']}", session=session)
    return ConnectOut(**res)


@router.get("/evidence", response_model=list[EvidenceOut])
def evidence(user: Reader, session: SessionDep, a: Name, b: Name,
             limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[EvidenceOut]:
    """The sentences that support the relations of A and B, with mentions to highlight."""
    from theralab.literature.graph import evidence as sentences

    rows = sentences(session, a, b, limit=limit)
    user.audit("literature.evidence", "LiteratureEntity", f"{a[:80]}~{b[:80]}", session=session)
    return [EvidenceOut(**vars(r)) for r in rows]


@router.get("/export", response_class=Response,
            responses={200: {"content": {"text/csv": {}, "application/graphml+xml": {}}}})
def export(user: Reader, session: SessionDep, format: Literal["csv", "graphml"] = "csv",
           around: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
           min_documents: Annotated[int, Query(ge=1, le=100000)] = 1) -> Response:
    """The graph (or one entity's neighbourhood) as CSV edges or GraphML."""
    from theralab.literature.graph import export_csv, export_graphml

    if format == "csv":
        body = export_csv(session, around=around, min_documents=min_documents)
        media, name = "text/csv", "literature.csv"
    else:
        body = export_graphml(session, around=around, min_documents=min_documents)
        media, name = "application/graphml+xml", "literature.graphml"
    user.audit("literature.export", "LiteratureGraph", around or "", session=session)
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})
