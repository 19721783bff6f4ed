"""FHIR ingestion on real Synthea data: counts, idempotence, bad resources, CSV, export round trip."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from theralab.ehr import tables as store
from theralab.ehr.fhir import export_patient, import_path, import_resources, import_text
from theralab.runtime.db import session_scope

# line counts of the bulk-export files (wc -l): what a complete load must hold
BULK_COUNTS = {
    "Patient": 13,
    "AllergyIntolerance": 11,
    "Condition": 555,
    "DocumentReference": 1215,
    "Encounter": 1215,
    "MedicationRequest": 1745,
    "Procedure": 2056,
}


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)))


def test_bulk_import_complete_idempotent_and_exportable(engine, bulk_dir: Path) -> None:
    with session_scope(engine) as s:
        first = import_path(bulk_dir, s)
    assert first.ok, [e.where() for e in first.errors[:3]]
    assert first.loaded == BULK_COUNTS
    assert first.skipped["Immunization"] == 161  # not part of the patient model, counted not lost
    with session_scope(engine) as s:
        second = import_path(bulk_dir, s)
        assert second.loaded == BULK_COUNTS
        assert _count(s, store.PatientRow) == 13
        assert _count(s, store.ConditionRow) == 555
        assert _count(s, store.MedicationRow) == 1745
        assert _count(s, store.NoteRow) == 1215
        assert _count(s, store.ProcedureRow) == 2056
        # content mapped from the real resources
        sepsis = s.get(store.ConditionRow, "0023b3a7-2ded-840c-ee5b-6b123fdcfb0b")
        assert (sepsis.code, sepsis.system, sepsis.clinical_status) == (
            "91302008",
            "http://snomed.info/sct",
            "active",
        )
        assert sepsis.patient_id == "129c6ac7-8d06-89de-ad63-0204a93e76c3"
        assert sepsis.onset.isoformat() == "1976-01-20T03:58:16+00:00"  # -05:00 converted to UTC
        note = s.get(store.NoteRow, ("DocumentReference", "00212c89-d070-985e-b695-b5f12fffd23e"))
        assert note.text.startswith("\n1987-11-19\n\n# Chief Complaint\n- Cough")  # base64 decoded
        med = s.get(store.MedicationRow, ("MedicationRequest", "002eb5b8-2964-effd-3b09-f132017dae04"))
        assert (med.code, med.status) == ("314076", "stopped")
        p = s.get(store.PatientRow, "129c6ac7-8d06-89de-ad63-0204a93e76c3")
        assert (p.gender, p.race, p.birth_sex) == ("female", "White", "F")
        _check_export_round_trip(s, "129c6ac7-8d06-89de-ad63-0204a93e76c3")


def test_bad_resources_reported_rest_loads(engine, bulk_dir: Path, tmp_path: Path) -> None:
    lines = (bulk_dir / "Condition.000.ndjson").read_text().splitlines()[:20]
    bad = json.loads(lines[2])
    bad["onsetDateTime"] = "yesterday"  # wrong type: the R4B model rejects it
    lines[2] = json.dumps(bad)
    typo = json.loads(lines[5])
    typo["code"]["coding"][0]["code"] = "91302009"  # fails the SNOMED CT Verhoeff check digit
    lines[5] = json.dumps(typo)
    noid = json.loads(lines[7])
    del noid["id"]
    lines[7] = json.dumps(noid)
    lines[9] = "{not json"
    future = json.loads(lines[11])
    future["onsetDateTime"] = "2999-01-01T00:00:00Z"
    lines[11] = json.dumps(future)
    (tmp_path / "Condition.000.ndjson").write_text("\n".join(lines) + "\n")
    (tmp_path / "Patient.000.ndjson").write_text((bulk_dir / "Patient.000.ndjson").read_text())
    with session_scope(engine) as s:
        report = import_path(tmp_path, s)
        assert report.loaded["Condition"] == 15
        assert _count(s, store.ConditionRow) == 15
    by_line = {e.line: e for e in report.errors}
    assert set(by_line) == {3, 6, 8, 10, 12}
    assert by_line[3].resource_id == bad["id"] and by_line[3].path == "onsetDateTime"
    assert by_line[3].file.endswith("Condition.000.ndjson")
    assert by_line[6].path == "code.coding[0].code" and "Verhoeff" in by_line[6].message
    assert by_line[8].path == "id" and "missing resource id" in by_line[8].message
    assert "invalid JSON" in by_line[10].message
    assert by_line[12].path == "onsetDateTime" and "future" in by_line[12].message


def test_resource_without_its_patient_is_an_error(engine, bulk_dir: Path) -> None:
    line = (bulk_dir / "Condition.000.ndjson").read_text().splitlines()[0]
    with session_scope(engine) as s:
        report = import_text(line, s, source="one.ndjson")
    assert not report.ok and report.errors[0].path == "subject"
    assert "Patient/129c6ac7-8d06-89de-ad63-0204a93e76c3" in report.errors[0].message


def test_synthea_csv_import(engine, csv_dir: Path) -> None:
    with session_scope(engine) as s:
        report = import_path(csv_dir, s)
        again = import_path(csv_dir, s)
        assert _count(s, store.PatientRow) == 27
        assert _count(s, store.ObservationRow) == 990
        # glucose rows arrive in mg/dL (the canonical unit) and stay numeric
        glucose = s.scalars(select(store.ObservationRow).where(store.ObservationRow.code == "2339-0")).all()
        assert len(glucose) == 10 and all(g.unit == "mg/dL" and g.value is not None for g in glucose)
    assert report.loaded["Patient"] == 27 and again.loaded == report.loaded
    # the dbt-synthea seed stores SNOMED 10939881000119105 as a float (...104): caught by the check digit
    assert len(report.errors) == 4
    assert all("10939881000119104" in e.message and e.file.endswith("conditions.csv") for e in report.errors)


def _check_export_round_trip(s: Session, pid: str) -> None:
    """Export validates as R4, and importing it again changes no row count (same ids)."""
    bundle = export_patient(s, pid)  # validated with fhir.resources R4B inside
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    n_cond = _count_for(s, store.ConditionRow, pid)
    assert kinds.count("Condition") == n_cond > 0
    note = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference")
    text = base64.b64decode(note["content"][0]["attachment"]["data"]).decode()
    assert text == s.get(store.NoteRow, ("DocumentReference", note["id"])).text
    before = {t.__tablename__: _count(s, t) for t in store.ALL_TABLES}
    report = import_resources([bundle], s)
    assert report.ok
    assert {t.__tablename__: _count(s, t) for t in store.ALL_TABLES} == before


def _count_for(s: Session, model: type, pid: str) -> int:
    return int(s.scalar(select(func.count()).select_from(model).where(model.patient_id == pid)))


def _transaction_bundle() -> dict:
    """A hand-written transaction Bundle: urn:uuid references, ids only in fullUrl, less common types."""
    pid, note = "urn:uuid:0b5c6a8e-2f7a-4c55-9d1e-3f1a2b3c4d5e", "Patient denies chest pain.\nMother had breast cancer."
    entries = [
        {
            "resourceType": "MedicationStatement",
            "status": "active",
            "medicationCodeableConcept": {
                "coding": [
                    {
                        "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                        "code": "309362",
                        "display": "Clopidogrel 75 MG Oral Tablet",
                    }
                ]
            },
            "subject": {"reference": pid},
            "effectivePeriod": {"start": "2020-01-01"},
        },
        {
            "resourceType": "DiagnosticReport",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "34117-2"}]},
            "subject": {"reference": pid},
            "effectiveDateTime": "2021-03-04T10:00:00Z",
            "presentedForm": [{"contentType": "text/plain", "data": base64.b64encode(note.encode()).decode()}],
        },
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7"}]},
            "subject": {"reference": pid},
            "effectiveDateTime": "2021-03-04T10:00:00Z",
            "valueQuantity": {"value": 5.5, "unit": "mmol/L"},
        },
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7"}]},
            "subject": {"reference": pid},
            "effectiveDateTime": "2021-03-05T10:00:00Z",
            "valueQuantity": {"value": 5.5, "unit": "kg"},
        },
        {
            "resourceType": "FamilyMemberHistory",
            "status": "completed",
            "patient": {"reference": pid},
            "relationship": {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "code": "MTH"}]
            },
            "condition": [
                {
                    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "254837009"}]},
                    "onsetAge": {"value": 52, "unit": "a"},
                }
            ],
        },
        {"resourceType": "Patient", "gender": "male", "birthDate": "1950-02-03"},
    ]
    ids = [f"urn:uuid:00000000-0000-4000-8000-00000000000{i}" for i in range(len(entries) - 1)] + [pid]
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": u, "resource": r, "request": {"method": "POST", "url": r["resourceType"]}}
            for u, r in zip(ids, entries, strict=True)
        ],
    }


def test_transaction_bundle_and_other_types(engine) -> None:
    with session_scope(engine) as s:
        report = import_resources([_transaction_bundle()], s)
        assert report.ok and report.patients == 1
        assert report.loaded == {
            "Patient": 1,
            "MedicationStatement": 1,
            "DiagnosticReport": 1,
            "Observation": 2,
            "FamilyMemberHistory": 1,
        }
        # an unconvertible unit is kept as received, flagged, and never compared as a number
        assert len(report.warnings) == 1 and report.warnings[0].path.endswith("valueQuantity")
        obs = {o.effective.day: o for o in s.scalars(select(store.ObservationRow))}
        assert obs[4].value == pytest.approx(99.0858, rel=1e-4) and obs[4].unit == "mg/dL"
        assert obs[5].value is None and not obs[5].unit_ok and (obs[5].value_orig, obs[5].unit_orig) == (5.5, "kg")
        report_note = s.scalars(select(store.NoteRow)).one()
        assert report_note.resource_type == "DiagnosticReport" and "denies chest pain" in report_note.text
        fam = s.scalars(select(store.FamilyHistoryRow)).one()
        assert (fam.relationship, fam.code, fam.onset_age) == ("MTH", "254837009", 52.0)
        med = s.scalars(select(store.MedicationRow)).one()
        assert (med.resource_type, med.code, med.status) == ("MedicationStatement", "309362", "active")
        pid = s.scalars(select(store.PatientRow.id)).one()
        bundle = export_patient(s, pid)
        assert {e["resource"]["resourceType"] for e in bundle["entry"]} >= {
            "MedicationStatement",
            "DiagnosticReport",
            "FamilyMemberHistory",
        }


def test_reimport_updates_changed_resource(engine) -> None:
    from theralab.ehr.synthetic.cohort import generate_patient

    bundle = generate_patient(seed=9, index=3)
    patient = bundle["entry"][0]["resource"]
    cond = {
        "resourceType": "Condition",
        "id": "cond-1",
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "59621000"}]},
        "subject": {"reference": f"Patient/{patient['id']}"},
        "onsetDateTime": "2015-04-01",
    }
    with session_scope(engine) as s:
        import_resources([patient, cond], s)
        changed = {**cond, "clinicalStatus": {"coding": [{"code": "resolved"}]}, "abatementDateTime": "2020-01-01"}
        report = import_resources([changed], s)
        assert report.ok
        rows = s.scalars(select(store.ConditionRow)).all()
        assert len(rows) == 1
        assert rows[0].clinical_status == "resolved" and rows[0].abatement.year == 2020


def test_lenient_codes_load_with_a_warning(engine, csv_dir: Path) -> None:
    with session_scope(engine) as s:
        report = import_path(csv_dir, s, strict_codes=False)
        assert report.ok and _count(s, store.ConditionRow) == 438  # 434 + the 4 float-rounded codes
    assert len(report.warnings) == 4 and all("Verhoeff" in w.message for w in report.warnings)


def test_worker_processes_give_the_same_result(engine) -> None:
    from theralab.ehr.synthetic.cohort import generate_cohort

    bundles = list(generate_cohort(12, seed=21))
    assert bundles[4]["entry"][1]["resource"]["resourceType"] == "Encounter"
    bundles[4]["entry"][1]["resource"]["period"]["start"] = "soon"  # one bad resource, reported the same way
    with session_scope(engine) as s:
        serial = import_resources(bundles, s)
        counts = {t.__tablename__: _count(s, t) for t in store.ALL_TABLES}
    with session_scope(engine) as s:
        parallel = import_resources(bundles, s, workers=2)
        assert {t.__tablename__: _count(s, t) for t in store.ALL_TABLES} == counts
    assert parallel.loaded == serial.loaded and parallel.patients == serial.patients == 12
    assert [e.model_dump() for e in parallel.errors] == [e.model_dump() for e in serial.errors]
    assert len(parallel.errors) == 1
    assert parallel.errors[0].line == 5 and parallel.errors[0].path == "entry[1].resource.period.start"
