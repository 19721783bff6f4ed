"""The knowledge graph on SQLite and PostgreSQL: load (idempotent), aggregates, the three queries, exports."""

from __future__ import annotations

import io
import re

import pytest

from theralab.errors import InputError, NotFoundError
from theralab.literature.documents import Document, Mention, Relation


def _doc(did, year, text, mentions, relations):
    doc = Document.from_title_abstract(did, text.split(". ")[0] + ".", text.split(". ", 1)[1], year=year)
    for s, typ, ident in mentions:  # every occurrence
        for m in re.finditer(re.escape(s), doc.text):
            doc.mentions.append(Mention(m.start(), m.end(), s, typ, ident))
    for typ, a, b, sent in relations:
        start = doc.text.index(sent)
        doc.relations.append(Relation(typ, a, b, 0.8, (start, start + len(sent))))
    return doc


def _docs():
    return [
        _doc("P1", 2010,
             "EGFR in lung cancer. EGFR mutations are associated with lung cancer. Gefitinib inhibits EGFR.",
             [("EGFR", "Gene", "HGNC:EGFR"), ("lung cancer", "Disease", "MESH:D008175"),
              ("Gefitinib", "Chemical", "MESH:D000077156")],
             [("GDA", "HGNC:EGFR", "MESH:D008175", "EGFR mutations are associated with lung cancer."),
              ("CPR:4", "MESH:D000077156", "HGNC:EGFR", "Gefitinib inhibits EGFR.")]),
        _doc("P2", 2015,
             "KRAS in lung cancer. KRAS mutations cause lung cancer. "
             "EGFR mutations are associated with lung cancer too.",
             [("KRAS", "Gene", "HGNC:KRAS"), ("lung cancer", "Disease", "MESH:D008175"),
              ("EGFR", "Gene", "HGNC:EGFR")],
             [("GDA", "HGNC:KRAS", "MESH:D008175", "KRAS mutations cause lung cancer."),
              ("GDA", "HGNC:EGFR", "MESH:D008175", "EGFR mutations are associated with lung cancer too.")]),
        _doc("P3", 2020, "Gefitinib rash. Gefitinib caused acneiform rash in most patients.",
             [("Gefitinib", "Chemical", "MESH:D000077156"), ("acneiform rash", "Disease", "MESH:D000152")],
             [("CID", "MESH:D000077156", "MESH:D000152", "Gefitinib caused acneiform rash in most patients.")]),
    ]


def test_load_query_export(tl_env_any_db):
    import networkx as nx

    from theralab.literature import graph
    from theralab.literature.tables import load_documents
    from theralab.runtime.db import session_scope

    with session_scope() as s:
        counts = load_documents(s, _docs(), user="t")
    assert counts["documents"] == 3 and counts["evidence"] == 5
    with session_scope() as s:  # loading again replaces, does not double-count
        load_documents(s, _docs()[:2], user="t")
    with session_scope() as s:
        assert graph.stats(s) == {"documents": 3, "entities": {"Chemical": 1, "Disease": 2, "Gene": 2},
                                  "relations": {"CID": 1, "CPR:4": 1, "GDA": 2}}
        targets = graph.neighbours(s, "lung cancer", etype="Gene")
        assert [(t.id, t.documents, t.first_year, t.last_year) for t in targets] == [
            ("HGNC:EGFR", 2, 2010, 2015), ("HGNC:KRAS", 1, 2015, 2015)]
        drugs = graph.neighbours(s, "egfr", etype="Chemical")
        assert [(d.name, d.relation_types) for d in drugs] == [("Gefitinib", ["CPR:4"])]
        assert graph.resolve(s, "MESH:D008175").name == "lung cancer"
        assert graph.resolve(s, "lung", etype="Disease").id == "MESH:D008175"  # prefix
        res = graph.connect(s, "Gefitinib", "lung cancer")
        assert res["direct"] == [] and res["paths"][0]["via"]["id"] == "HGNC:EGFR"
        res = graph.connect(s, "Gefitinib", "acneiform rash")
        assert res["direct"][0]["type"] == "CID" and res["direct"][0]["documents"] == 1
        ev = graph.evidence(s, "EGFR", "lung cancer")
        assert {e.doc_id for e in ev} == {"P1", "P2"}
        one = next(e for e in ev if e.doc_id == "P1")
        assert one.sentence == "EGFR mutations are associated with lung cancer."
        assert [(h["start"], h["end"], h["focus"]) for h in one.highlights] == [(0, 4, True), (35, 46, True)]
        assert graph.search_entities(s, "can")[0]["id"] == "MESH:D008175"
        csv_text = graph.export_csv(s)
        assert csv_text.splitlines()[0].startswith("relation_id,type,subject")
        assert len(csv_text.splitlines()) == 5
        g = nx.read_graphml(io.StringIO(graph.export_graphml(s, around="EGFR")))
        assert set(g.nodes) == {"HGNC:EGFR", "MESH:D008175", "MESH:D000077156"}
        with pytest.raises(NotFoundError):
            graph.resolve(s, "no such thing")
        with pytest.raises(InputError):
            graph.resolve(s, "")
        with pytest.raises(InputError):
            graph.resolve(s, "x", etype="Planet")
        assert graph.search_entities(s, "100%_") == []


def test_migration_matches_the_tables(tl_env):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from theralab.literature.tables import literature_tables
    from theralab.runtime.db import get_engine
    from theralab.runtime.metadata import load_all

    base = load_all()
    names = {t.name for t in literature_tables()}
    with get_engine().connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), base.metadata)
    ours = [d for d in diff if any(n in repr(d) for n in names)]
    assert ours == []
