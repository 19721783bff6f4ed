"""Relation extraction over documents: CID, chemical-gene types and gene-disease co-occurrence, with evidence."""

from __future__ import annotations

from theralab.literature.readers import read_path
from theralab.literature.relations import extract
from theralab.literature.relations.gda import GDA_TRIGGERS, trigger_score


def test_extract_all_three_kinds_with_evidence(test_data):
    docs, _ = read_path(test_data / "literature" / "genes_mini.bioc.json")
    extract(docs)
    by = {(d.id, r.type, r.subject, r.object): (d, r) for d in docs for r in d.relations}
    d, gda = by[("G2", "GDA", "HGNC:KRAS", "MESH:D008175")]
    assert d.text[gda.evidence[0]:gda.evidence[1]] == "Mutations in KRAS are associated with lung cancer risk."
    kinds = {k[1] for k in by}
    assert "GDA" in kinds and any(k.startswith("CPR:") for k in kinds)
    _, cpr = next(v for k, v in by.items() if k[0] == "G1" and k[1].startswith("CPR") and k[2] == "MESH:D000069347")
    assert cpr.type == "CPR:6"  # "Erlotinib is an antagonist of EGFR signalling."


def test_trigger_score_and_negation():
    assert trigger_score("EGFR mutations are associated with lung cancer.", GDA_TRIGGERS) > \
        trigger_score("EGFR was not associated with lung cancer.", GDA_TRIGGERS)
    assert trigger_score("EGFR and lung cancer.", GDA_TRIGGERS) == 0.3
