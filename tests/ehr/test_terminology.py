"""Code-system checks, ICD-10-CM hierarchy, curated SNOMED CT subset and RxNorm ingredients."""

from __future__ import annotations

import csv
from importlib import resources

import pytest

from theralab.ehr.terminology import (
    SYSTEMS,
    check_code,
    icd10_chapter,
    icd10_is_a,
    icd10_to_snomed,
    loinc_check_ok,
    rxnorm_ingredient,
    snomed_ancestors,
    snomed_concepts,
    snomed_descendants,
    snomed_to_icd10,
    verhoeff_ok,
)


def test_check_digits() -> None:
    assert verhoeff_ok("44054006") and verhoeff_ok("10939881000119105")
    assert not verhoeff_ok("44054007")
    assert not verhoeff_ok("10939881000119104")  # float-rounded copy of the code above
    assert loinc_check_ok("4548-4") and loinc_check_ok("2339-0") and not loinc_check_ok("4548-5")
    assert check_code(SYSTEMS["icd10cm"], "E11.65") is None
    assert "ICD-10-CM" in check_code(SYSTEMS["icd10cm"], "11.6")
    assert "digits" in check_code(SYSTEMS["rxnorm"], "abc")
    assert check_code("http://example.org/local", "anything") is None


def test_shipped_tables_are_well_formed() -> None:
    for concept in snomed_concepts().values():
        assert check_code(SYSTEMS["snomed"], concept.code) is None, concept
        assert concept.icd10cm is None or check_code(SYSTEMS["icd10cm"], concept.icd10cm) is None
        assert all(p in snomed_concepts() for p in concept.parents), concept
    text = resources.files("theralab.ehr").joinpath("data/loinc_common.csv").read_text()
    for row in csv.DictReader(text.splitlines()):
        assert check_code(SYSTEMS["loinc"], row["code"]) is None, row


def test_icd10_hierarchy() -> None:
    assert icd10_chapter("E11.65") == (4, "Endocrine, nutritional and metabolic diseases")
    assert icd10_chapter("C50.919")[0] == 2 and icd10_chapter("D64.9")[0] == 3  # D splits at D50
    assert icd10_chapter("U07.1")[0] == 22
    assert icd10_is_a("E11.65", "E11") and not icd10_is_a("E10.9", "E11")


def test_snomed_hierarchy_and_map() -> None:
    diabetes = snomed_descendants("73211009")
    assert {"44054006", "127013003", "90781000119102"} <= diabetes and "15777000" not in diabetes
    assert "46177005" in snomed_descendants("709044004")  # ESRD is CKD (via stage 5)
    assert snomed_ancestors("424132000") == {"254637007", "363358000", "363346000"}
    assert snomed_to_icd10("59621000") == "I10"
    assert snomed_to_icd10("999999999") is None
    assert icd10_to_snomed("N18") >= {"431855005", "433144002", "46177005"}


def test_rxnorm_ingredients() -> None:
    assert rxnorm_ingredient("24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet") == (
        "6809",
        "metformin",
    )
    assert rxnorm_ingredient("Clopidogrel 75 MG Oral Tablet") == ("32968", "clopidogrel")
    assert rxnorm_ingredient(code="11289") == ("11289", "warfarin")
    assert rxnorm_ingredient("Unknownium 5 MG Oral Tablet") is None


def test_icd10cm_codes_are_checked_against_the_shipped_release():
    from theralab.ehr.terminology import icd10cm_codes, icd10cm_release

    if icd10cm_codes() is None:
        pytest.skip("simple-icd-10-cm is not installed: ICD-10-CM is checked for format only")
    assert icd10cm_release() == "April 2026"
    assert len(icd10cm_codes()) > 90_000
    icd = SYSTEMS["icd10cm"]
    for real in ("E11.65", "E11", "I10", "Z79.4", "U07.1", "C50.919"):
        assert check_code(icd, real) is None, real
    # well formed, but not a code: E11.9 has no children, I10 is a leaf, Z99.99 does not exist
    for unknown in ("E11.99", "I10.1", "Z99.99"):
        assert "is not in ICD-10-CM (April 2026)" in check_code(icd, unknown), unknown
