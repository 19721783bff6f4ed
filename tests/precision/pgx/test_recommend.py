"""CPIC recommendations by lookup key; drug-centred and medication-list views."""

from __future__ import annotations

import pytest

from theralab.errors import NotFoundError
from theralab.precision.pgx.phenotype import phenotype_for
from theralab.precision.pgx.recommend import (
    all_drugs,
    drug_view,
    html_to_text,
    medication_review,
    recommendations_for,
)


def _p(**calls: str) -> dict:
    return {g.replace("_", "-"): phenotype_for(g.replace("_", "-"), d) for g, d in calls.items()}


def test_clopidogrel_poor_metabolizer() -> None:
    recs = recommendations_for(_p(CYP2C19="*2/*2"), ["clopidogrel"])
    strong = [r for r in recs if r.strength == "Strong"]
    assert len(strong) == 1
    r = strong[0]
    assert r.lookup == {"CYP2C19": "Poor Metabolizer"}
    assert r.text.startswith("Avoid clopidogrel if possible. Use prasugrel or ticagrelor at standard dose")
    assert r.actionable and r.source == "CPIC" and "35034351" in r.pmids
    assert r.guideline_url == "https://www.pharmgkb.org/guidelineAnnotation/PA166104948"


def test_normal_metabolizer_is_not_actionable() -> None:
    recs = recommendations_for(_p(CYP2C19="*38/*38"), ["clopidogrel"])
    assert recs and not any(r.actionable for r in recs)
    assert all(r.lookup == {"CYP2C19": "Normal Metabolizer"} for r in recs)


def test_two_gene_lookup_and_activity_score_key() -> None:
    recs = recommendations_for(_p(CYP2C19="*38/*38", CYP2D6="*4/*4"), ["amitriptyline"])
    assert [r.lookup for r in recs] == [{"CYP2C19": "Normal Metabolizer", "CYP2D6": "0.0"}]
    assert recs[0].text.startswith("Avoid amitriptyline use.") and recs[0].strength == "Strong"


def test_hla_positivity_and_no_result() -> None:
    recs = recommendations_for(_p(HLA_B="*15:02/*57:01"), ["abacavir"])
    assert [(r.lookup, r.text, r.actionable) for r in recs] == [
        ({"HLA-B": "*57:01 positive"}, "Abacavir is not recommended", True)
    ]
    # a gene without a result matches CPIC's own "No Result" rows (HLA-A here), never the normal ones
    recs = recommendations_for(_p(HLA_B="*15:02/*57:01"), ["carbamazepine"])
    assert recs and all(r.lookup == {"HLA-A": "No Result", "HLA-B": "*15:02 positive"} for r in recs)
    assert recommendations_for({}, ["clopidogrel"]) == []
    assert drug_view("clopidogrel", {})["genes"] == ["CYP2C19: no result"]


def test_unknown_drug_and_listing() -> None:
    with pytest.raises(NotFoundError, match="aspirinx"):
        recommendations_for({}, ["aspirinx"])
    drugs = {d["drug"]: d["genes"] for d in all_drugs()}
    assert drugs["clopidogrel"] == ["CYP2C19"]
    assert len(drugs) == 82


def test_drug_and_patient_views() -> None:
    ph = _p(CYP2C19="*2/*2", CYP2C9="*3/*3")
    v = drug_view("clopidogrel", ph)
    assert v["actionable"] and v["genes"] == ["CYP2C19: *2/*2 (Poor Metabolizer)"]
    review = medication_review(["Clopidogrel", "paracetamol", "celecoxib"], ph)
    assert [(m["drug"], m["guideline"], m["actionable"]) for m in review] == [
        ("Clopidogrel", True, True),
        ("paracetamol", False, False),
        ("celecoxib", True, True),
    ]


def test_html_to_text() -> None:
    assert html_to_text("<p>Use &quot;low&quot; dose</p>\n<h4>Other</h4><p>x</p>") == 'Use "low" dose\nOther\nx'
