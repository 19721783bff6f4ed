"""``/v1/literature`` through the full app: uploads only, roles, audit, 4xx for bad input, graph queries."""

from __future__ import annotations

from sqlalchemy import select


def _audit():
    from theralab.privacy.tables import AuditEvent
    from theralab.runtime.db import session_scope

    with session_scope() as s:
        return [(e.actor, e.action) for e in s.scalars(select(AuditEvent))]


def test_load_extract_query_roles_and_audit(api, test_data):
    res, doc, pat = api.login("res"), api.login("doc"), api.login("pat")
    bioc = (test_data / "literature" / "genes_mini.bioc.json").read_bytes()
    cdr = (test_data / "literature" / "cdr_dev_mini.PubTator.txt").read_bytes()
    files = {"file": ("genes.bioc.json", bioc, "application/json")}
    assert api.post("/v1/literature/load", files=files).status_code == 401
    assert api.post("/v1/literature/load", files=files, headers=doc).status_code == 403  # clinicians read only
    assert api.get("/v1/literature/stats", headers=pat).status_code == 403
    r = api.post("/v1/literature/load", files=files, headers=res)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["loaded"]["documents"] == 3 and body["errors"] == []
    rel = next(x for d in body["documents"] for x in d["relations"] if x["type"] == "GDA")
    assert rel["sentence"] and rel["evidence"][1] > rel["evidence"][0]
    r = api.post("/v1/literature/load", files={"file": ("cdr.pubtator", cdr, "text/plain")}, headers=res)
    assert r.status_code == 200 and r.json()["loaded"]["documents"] == 4
    ex = api.post("/v1/literature/extract", files={"file": ("cdr.pubtator", cdr, "text/plain")}, headers=doc)
    assert ex.status_code == 200 and ex.json()["loaded"] is None
    m = ex.json()["documents"][0]["mentions"][1]
    assert (m["start"], m["end"], m["text"]) == (35, 45, "olanzapine")

    stats = api.get("/v1/literature/stats", headers=doc).json()
    assert stats["documents"] == 7 and stats["relations"]["GDA"] >= 1
    t = api.get("/v1/literature/neighbours", params={"entity": "lung cancer", "type": "Gene"}, headers=doc)
    assert t.status_code == 200
    assert {n["id"] for n in t.json()["neighbours"]} == {"HGNC:EGFR", "HGNC:KRAS"}
    d = api.get("/v1/literature/neighbours", params={"entity": "EGFR", "type": "Chemical"}, headers=doc).json()
    assert {n["name"] for n in d["neighbours"]} >= {"Gefitinib", "Erlotinib"}
    c = api.get("/v1/literature/connect", params={"a": "KRAS", "b": "EGFR"}, headers=doc).json()
    assert any(p["via"]["id"] == "MESH:D008175" for p in c["paths"])
    ev = api.get("/v1/literature/evidence", params={"a": "EGFR", "b": "lung cancer"}, headers=doc).json()
    assert ev and any(h["focus"] for h in ev[0]["highlights"])
    ents = api.get("/v1/literature/entities", params={"q": "egf"}, headers=doc).json()
    assert ents[0]["id"] == "HGNC:EGFR"
    csv = api.get("/v1/literature/export", params={"format": "csv"}, headers=doc)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    gml = api.get("/v1/literature/export", params={"format": "graphml", "around": "EGFR"}, headers=doc)
    assert "<graphml" in gml.text
    actions = _audit()
    for action in ("literature.load", "literature.extract", "literature.neighbours", "literature.connect",
                   "literature.evidence", "literature.export", "literature.stats"):
        assert any(a == action for _u, a in actions), action
    assert ("res", "literature.load") in actions


def test_bad_input_is_4xx(api):
    res = api.login("res")

    def up(content, name="x.xml", **form):
        return api.post("/v1/literature/extract", files={"file": (name, content, "text/plain")}, data=form,
                        headers=res)

    assert up(b"").status_code == 422
    r = up(b"<PubmedArticleSet><PubmedArticle>")
    assert r.status_code == 422 and "malformed XML" in r.json()["message"]
    assert up(b"x", format="word").status_code == 422
    assert api.get("/v1/literature/neighbours", params={"entity": "nothing"}, headers=res).status_code == 404
    assert api.get("/v1/literature/neighbours", params={"entity": ""}, headers=res).status_code == 422
    assert api.get("/v1/literature/neighbours", params={"entity": "x", "type": "Planet"},
                   headers=res).status_code == 422
    assert api.get("/v1/literature/export", params={"format": "pdf"}, headers=res).status_code == 422


def test_too_many_documents_to_tag_inline_is_refused_before_tagging(api):
    res = api.login("res")
    text = "\n\n".join(f"{i}|t|Aspirin and asthma number {i}.\n{i}|a|Aspirin worsened asthma in patient {i}."
                       for i in range(1, 203))
    r = api.post("/v1/literature/extract", files={"file": ("many.pubtator", text.encode(), "text/plain")},
                 data={"retag": "true"}, headers=res)
    assert r.status_code == 422 and "at most 200" in r.json()["message"]
