"""The patient header: identity, active allergies and the newest PGx call per gene, from one function."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest


def _allergy(pid: str, rid: str, code: str, name: str, status: str, criticality: str | None = None) -> dict:
    out = {"resourceType": "AllergyIntolerance", "id": rid, "patient": {"reference": f"Patient/{pid}"},
           "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                                          "code": status}]},
           "code": {"coding": [{"system": "http://snomed.info/sct", "code": code, "display": name}], "text": name}}
    if criticality:
        out["criticality"] = criticality
    return out


def test_header_lists_identity_active_allergies_and_newest_pgx_call(tl_env):
    from theralab.ehr.fhir.ingest import import_resources
    from theralab.ehr.header import patient_header, patient_headers
    from theralab.ehr.patients import save_genotype
    from theralab.errors import NotFoundError
    from theralab.runtime.db import session_scope

    with session_scope() as s:
        report = import_resources([
            {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1950-06-30",
             "name": [{"family": "Rossi", "given": ["Grace"]}],
             "identifier": [{"type": {"coding": [{"code": "MR"}]}, "value": "MRN-1"}]},
            {"resourceType": "Patient", "id": "p2"},
            _allergy("p1", "a1", "764146007", "Penicillin", "active", "high"),
            _allergy("p1", "a2", "111088007", "Latex", "resolved"),
        ], s)
        assert not report.errors, report.errors
        save_genotype(s, "p1", "CYP2C19", "*1/*1", phenotype="Normal Metabolizer", source="lab",
                      effective=datetime(2020, 1, 1, tzinfo=UTC))
        save_genotype(s, "p1", "CYP2C19", "*1/*2", phenotype="Intermediate Metabolizer", source="vcf",
                      effective=datetime(2024, 1, 1, tzinfo=UTC))
        save_genotype(s, "p1", "SLCO1B1", "*1/*1", phenotype="Normal Function", source="vcf")
    with session_scope() as s:
        h = patient_header(s, "p1", today=date(2025, 6, 29))
        bare = patient_headers(s, ["p2", "nobody"])
        with pytest.raises(NotFoundError):
            patient_header(s, "nobody")
    assert (h.name, h.sex, h.age, h.mrn) == ("Grace Rossi", "female", 74, "MRN-1")
    assert [a.substance for a in h.allergies] == ["Penicillin"] and h.allergies_recorded  # resolved one left out
    assert {(g.gene, g.diplotype) for g in h.pgx} == {("CYP2C19", "*1/*2"), ("SLCO1B1", "*1/*1")}  # newest call wins
    assert [g.gene for g in h.pgx_actionable] == ["CYP2C19"]
    assert list(bare) == ["p2"] and bare["p2"].name.startswith("Patient ") and not bare["p2"].allergies_recorded
