"""The synthetic cohort: deterministic, valid FHIR, consistent truth, loadable by our ingester."""

from __future__ import annotations

import base64
from collections import Counter

import pytest

from theralab.ehr.patients import iter_patients
from theralab.ehr.synthetic import egfr_ckd_epi_2021, generate_cohort, load_demo_patients, phenotype
from theralab.runtime.db import session_scope


def test_deterministic_and_independent_of_n() -> None:
    a = list(generate_cohort(5, seed=11))
    b = list(generate_cohort(3, seed=11))
    assert a[:3] == b
    assert a != list(generate_cohort(5, seed=12))


def test_egfr_reference_values() -> None:
    # CKD-EPI 2021 (Inker 2021): female, 50 y, Scr 0.7 -> 142 * 0.9938**50 * 1.012 = 105.30
    assert egfr_ckd_epi_2021(0.7, 50, True) == pytest.approx(105.30, abs=0.01)
    # male, 60 y, Scr 2.0: 142 * (2.0/0.9)**-1.2 * 0.9938**60 = 37.50
    assert egfr_ckd_epi_2021(2.0, 60, False) == pytest.approx(37.50, abs=0.01)


def test_cpic_phenotypes() -> None:
    assert phenotype("CYP2C19", "*2", "*2") == ("Poor Metabolizer", None)
    assert phenotype("CYP2C19", "*2", "*17") == ("Intermediate Metabolizer", None)
    assert phenotype("CYP2C9", "*1", "*3") == ("Intermediate Metabolizer", 1.0)
    assert phenotype("CYP2C9", "*2", "*3") == ("Poor Metabolizer", 0.5)
    assert phenotype("SLCO1B1", "*1", "*15") == ("Decreased Function", None)


def test_bundles_validate_and_truth_is_consistent() -> None:
    from fhir.resources.R4B.bundle import Bundle

    bundles = list(generate_cohort(40, seed=5))
    for b in bundles[:5]:
        Bundle.model_validate(b)
    kinds = Counter(e["resource"]["resourceType"] for b in bundles for e in b["entry"])
    assert kinds["Patient"] == 40 and kinds["DocumentReference"] == 40 and kinds["Observation"] > 40 * 30
    for b in bundles:
        res = [e["resource"] for e in b["entry"]]
        codes = {r["code"]["coding"][0]["code"] for r in res if r["resourceType"] == "Condition"}
        a1c = [
            r["valueQuantity"]["value"]
            for r in res
            if r["resourceType"] == "Observation" and r["code"]["coding"][0]["code"] == "4548-4"
        ]
        if "44054006" in codes:
            assert min(a1c) >= 6.5  # diabetes by ADA HbA1c threshold
        else:
            assert max(a1c) < 6.5
        note = base64.b64decode(
            next(r for r in res if r["resourceType"] == "DocumentReference")["content"][0]["attachment"]["data"]
        ).decode()
        if "49436004" not in codes:
            assert "has a history of atrial fibrillation" not in note
        else:
            assert "denies atrial fibrillation" not in note and "No history of atrial fibrillation" not in note


def test_demo_load_round_trip(engine) -> None:
    with session_scope(engine) as s:
        report = load_demo_patients(s, n=30, seed=7)
        again = load_demo_patients(s, n=30, seed=7)
        records = list(iter_patients(s))
    assert report.ok and again.loaded == report.loaded and report.loaded["Patient"] == 30
    assert not report.warnings  # every synthetic unit converts
    assert len(records) == 30
    # CKD stage agrees with the latest eGFR, by construction
    for rec in records:
        egfr = rec.latest("98979-8").value
        assert rec.has_condition({"433144002"}) == (30 <= egfr < 60)
        assert 30 <= rec.latest("8310-5").value <= 42  # degF readings normalised to Cel
