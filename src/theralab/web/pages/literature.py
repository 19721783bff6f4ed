"""The literature page: search a disease, gene or drug, see what the papers link to it, ranked by evidence,
as a table and a network, and click through to the sentences with the entities highlighted.

Researchers can also upload a PubMed export (XML), PubTator, BioC JSON or text file here to add it
to the knowledge graph; each document that cannot be read is listed with the reason.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse

from theralab.errors import InputError, TheralabError
from theralab.privacy.auth import require_role
from theralab.runtime.db import session_scope
from theralab.web.charts import axis, chart_spec
from theralab.web.pages import WebUser
from theralab.web.templating import mark_built, render

router = APIRouter()
mark_built("literature")
TYPES = ("", "Gene", "Chemical", "Disease")
BADGE = {"Chemical": "badge-info", "Disease": "badge-high", "Gene": "badge-ok", "Species": "badge-muted",
         "Variant": "badge-medium"}
COLOURS = {"Chemical": "#1f77b4", "Disease": "#d62728", "Gene": "#2ca02c", "Species": "#7f7f7f", "Variant": "#ff7f0e"}
MAX_UPLOAD = 20 * 1024 * 1024
MAX_TAGGED = 200  # the tagger reads about two abstracts a second on a CPU


def _network(center: dict[str, Any], rows: list[Any], a: str) -> dict[str, Any]:
    """A star layout: the searched entity in the middle, its neighbours on a circle sized by documents."""
    n = max(len(rows), 1)
    ex, ey, traces = [], [], []
    by_type: dict[str, dict[str, list[Any]]] = {}
    for i, r in enumerate(rows):
        x, y = round(math.cos(2 * math.pi * i / n), 4), round(math.sin(2 * math.pi * i / n), 4)
        ex += [0, x, None]
        ey += [0, y, None]
        t = by_type.setdefault(r.type, {"x": [], "y": [], "text": [], "size": [], "url": []})
        t["x"].append(round(x, 4))
        t["y"].append(round(y, 4))
        t["text"].append(f"{r.name} ({r.documents} document{'' if r.documents == 1 else 's'})")
        t["size"].append(10 + 4 * min(r.documents, 10))
        t["url"].append("/literature/evidence?" + urlencode({"a": a, "b": r.id}))
    traces.append({"type": "scatter", "mode": "lines", "x": ex, "y": ey, "hoverinfo": "skip", "showlegend": False,
                   "line": {"color": "#b0b7c3", "width": 1}})
    for etype, t in sorted(by_type.items()):
        traces.append({"type": "scatter", "mode": "markers+text", "name": etype, "x": t["x"], "y": t["y"],
                       "text": t["text"], "textposition": "top center", "customdata": t["url"],
                       "hovertemplate": "%{text}<extra></extra>",
                       "marker": {"size": t["size"], "color": COLOURS.get(etype, "#555")}})
    traces.append({"type": "scatter", "mode": "markers", "x": [-1.6, 1.6], "y": [-1.3, 1.3], "hoverinfo": "skip",
                   "showlegend": False, "marker": {"opacity": 0}})  # fixes the frame so labels fit
    traces.append({"type": "scatter", "mode": "markers+text", "name": center["name"], "x": [0], "y": [0],
                   "text": [center["name"]], "textposition": "bottom center", "showlegend": False,
                   "marker": {"size": 26, "color": COLOURS.get(center["type"], "#555"), "symbol": "diamond"}})
    # A network has no data axes; the titles say so (the house layout requires axis titles).
    return chart_spec(f"Entities linked to {center['name']} (click a node for the evidence)",
                      axis("Network layout, horizontal (no unit)"), axis("Network layout, vertical (no unit)"),
                      traces)


def _stats() -> dict[str, Any]:
    from sqlalchemy import select

    from theralab.literature.graph import stats
    from theralab.literature.tables import LitEntity

    with session_scope() as session:
        out = stats(session)
        top = session.scalars(select(LitEntity.name).where(LitEntity.type == "Disease")
                              .order_by(LitEntity.doc_count.desc(), LitEntity.id).limit(1)).first()
    out["example"] = top or ""
    return out


@router.get("/literature", response_class=HTMLResponse)
def literature_page(request: Request, user: WebUser, q: str = Query("", max_length=200),
                    type: str = Query("", max_length=20)) -> HTMLResponse:
    from theralab.literature.graph import neighbours, resolve

    require_role(set(user.roles), "researcher", "clinician")
    ctx: dict[str, Any] = {"q": q, "type": type if type in TYPES else "", "types": TYPES, "rows": None,
                           "entity": None, "problem": None, "chart": None, "badge": BADGE,
                           "may_load": bool(set(user.roles) & {"researcher", "admin"}), "loaded": None}
    ctx["stats"] = _stats()
    if q.strip():
        try:
            with session_scope() as session:
                ent = resolve(session, q)
                rows = neighbours(session, ent.id, etype=ctx["type"] or None, limit=50)
                ctx["entity"] = {"id": ent.id, "name": ent.name, "type": ent.type, "documents": ent.doc_count}
            ctx["rows"] = [dict(vars(r), url="/literature/evidence?" + urlencode({"a": ent.id, "b": r.id}))
                           for r in rows]
            if rows:
                ctx["chart"] = _network(ctx["entity"], rows[:30], ent.id)
            user.audit("literature.page.search", "LiteratureEntity", ent.id)
        except TheralabError as exc:
            ctx["problem"] = exc.message + (f" {exc.hint}" if exc.hint else "")
    return render(request, "literature.html", ctx)


@router.post("/literature/sample", response_class=HTMLResponse)
def literature_sample(request: Request, user: WebUser) -> HTMLResponse:
    """Load the shipped sample abstracts (made up for the demo) so the page has something to show."""
    from theralab.literature.sample import load_sample

    require_role(set(user.roles), "researcher")
    with session_scope() as session:
        counts = load_sample(session, user=user.username)
    user.audit("literature.page.sample", "LiteratureGraph", f"{counts['documents']} documents")
    ctx: dict[str, Any] = {"q": "", "type": "", "types": TYPES, "rows": None, "entity": None, "problem": None,
                           "chart": None, "badge": BADGE, "may_load": True,
                           "loaded": {"counts": counts, "errors": []}, "stats": _stats()}
    return render(request, "literature.html", ctx)


@router.post("/literature", response_class=HTMLResponse)
async def literature_load(request: Request, user: WebUser, upload: UploadFile = File(...),
                          format: str = Form("auto")) -> HTMLResponse:
    from theralab.literature.pipeline import process
    from theralab.literature.readers import FORMATS, read_bytes
    from theralab.literature.tables import load_documents

    require_role(set(user.roles), "researcher")
    ctx: dict[str, Any] = {"q": "", "type": "", "types": TYPES, "rows": None, "entity": None, "problem": None,
                           "chart": None, "badge": BADGE, "may_load": True, "loaded": None}
    try:
        data = await upload.read(MAX_UPLOAD + 1)
        if not data:
            raise InputError("the uploaded file is empty", where="upload")
        if len(data) > MAX_UPLOAD:
            raise InputError("the upload is over 20 MB", where="upload", hint="use 'theralab literature load'")
        fmt = None if format == "auto" or format not in FORMATS else format
        docs, errors = read_bytes(data, (upload.filename or "upload").replace("/", "_")[-200:], fmt)
        if sum(1 for d in docs if not d.mentions) > MAX_TAGGED:
            raise InputError(f"more than {MAX_TAGGED} documents to tag in one upload", where="upload",
                             hint="split the file, or run 'theralab literature load FILE' on the command line")
        done, failed = process(docs)
        with session_scope() as session:
            counts = load_documents(session, done, user=user.username)
        user.audit("literature.page.load", "LiteratureGraph", f"{counts['documents']} documents")
        ctx["loaded"] = {"counts": counts, "errors": [{"where": e.where, "reason": e.reason}
                                                      for e in (errors + failed)[:50]]}
    except TheralabError as exc:
        ctx["problem"] = exc.message + (f" {exc.hint}" if exc.hint else "")
    ctx["stats"] = _stats()
    return render(request, "literature.html", ctx, status_code=422 if ctx["problem"] else 200)


def highlight(sentence: str, marks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Split a sentence into plain and marked pieces (non-overlapping, in order) for the template."""
    pieces, pos = [], 0
    for m in sorted(marks, key=lambda m: (m["start"], -m["end"])):
        if m["start"] < pos or m["end"] > len(sentence):
            continue
        if m["start"] > pos:
            pieces.append({"text": sentence[pos:m["start"]]})
        pieces.append({"text": sentence[m["start"]:m["end"]], "type": m["type"], "focus": m["focus"]})
        pos = m["end"]
    if pos < len(sentence):
        pieces.append({"text": sentence[pos:]})
    return pieces


@router.get("/literature/evidence", response_class=HTMLResponse)
def literature_evidence(request: Request, user: WebUser, a: str = Query("", max_length=200),
                        b: str = Query("", max_length=200)) -> HTMLResponse:
    from theralab.literature.graph import edges_between, evidence, resolve

    require_role(set(user.roles), "researcher", "clinician")
    ctx: dict[str, Any] = {"a": None, "b": None, "edges": [], "sentences": [], "problem": None, "badge": BADGE,
                           "qa": a, "qb": b}
    if not a.strip() or not b.strip():  # no pair chosen yet: the form alone
        return render(request, "literature_evidence.html", ctx)
    try:
        with session_scope() as session:
            ea, eb = resolve(session, a), resolve(session, b)
            ctx["a"] = {"id": ea.id, "name": ea.name, "type": ea.type}
            ctx["b"] = {"id": eb.id, "name": eb.name, "type": eb.type}
            ctx["edges"] = [vars(e) for e in edges_between(session, ea.id, eb.id)]
            ctx["sentences"] = [dict(vars(s), pieces=highlight(s.sentence, s.highlights))
                                for s in evidence(session, ea.id, eb.id, limit=100)]
        user.audit("literature.page.evidence", "LiteratureEntity", f"{ea.id}~{eb.id}")
    except TheralabError as exc:
        ctx["problem"] = exc.message + (f" {exc.hint}" if exc.hint else "")
    return render(request, "literature_evidence.html", ctx, status_code=404 if ctx["problem"] else 200)
