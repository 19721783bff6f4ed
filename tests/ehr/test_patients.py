"""The patient view loaded from the database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from theralab.ehr.fhir.ingest import import_path, import_resources
from theralab.ehr.patients import (
    ConditionItem,
    MedicationItem,
    PatientRecord,
    count_patients,
    iter_patients,
    latest_observations,
    list_patients,
    load_patient,
)
from theralab.ehr.synthetic.cohort import generate_patient
from theralab.errors import InputError, NotFoundError
from theralab.runtime.db import session_scope

PID = "129c6ac7-8d06-89de-ad63-0204a93e76c3"


def test_synthea_patient_view(engine, bulk_dir: Path) -> None:
    with session_scope(engine) as s:
        import_path(bulk_dir, s)
        rec = load_patient(s, PID)
        assert count_patients(s) == 13
        summaries = list_patients(s, limit=5)
        assert len(summaries) == 5 and summaries == sorted(summaries, key=lambda p: p.id)
        with pytest.raises(NotFoundError):
            load_patient(s, "nobody")
    assert rec.gender == "female" and rec.birth_date is not None
    assert rec.has_condition({"91302008"}, active=False)  # the sepsis episode
    assert len(rec.notes) > 0 and all(n.text for n in rec.notes)
    # Synthea's stopped requests have no end date: never counted as active, by design
    assert all(m.status == "active" for m in rec.active_medications(datetime(2023, 1, 1, tzinfo=UTC)))


def test_latest_values_and_units(engine) -> None:
    bundle = generate_patient(seed=3, index=0)
    with session_scope(engine) as s:
        import_resources([bundle], s)
        rec = next(iter_patients(s))
    # truth from the bundle: the last creatinine in mg/dL, whatever unit it was sent in
    crea = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation" and e["resource"]["code"]["coding"][0]["code"] == "2160-0"
    ]
    last = max(crea, key=lambda r: r["effectiveDateTime"])["valueQuantity"]
    expected = last["value"] if last["unit"] == "mg/dL" else last["value"] * 113.118 / 10000
    got = rec.latest("2160-0")
    assert got.unit == "mg/dL" and got.value == pytest.approx(expected, rel=1e-6)
    assert rec.latest_values()["8480-6"].unit == "mm[Hg]"  # blood-pressure component row
    assert {g.gene for g in rec.genotypes} == {"CYP2C19", "CYP2C9", "SLCO1B1"}
    assert rec.genotype("cyp2c19").diplotype.count("*") == 2


def test_latest_observations_query_agrees_with_the_record(engine) -> None:
    """The one query the patient page uses gives the record's latest values, at any date."""
    with session_scope(engine) as s:
        import_resources([generate_patient(seed=5, index=1)], s)
        rec = next(iter_patients(s))
        for before in (None, date(2015, 6, 1), date(1990, 1, 1)):
            query = latest_observations(s, rec.id, before)
            record = rec.latest_values(before)
            assert set(query) == set(record)
            for code, item in record.items():
                assert (query[code].effective, query[code].value) == (item.effective, item.value), code
        with pytest.raises(NotFoundError):
            latest_observations(s, "nobody")


def test_dates_and_activity_by_hand() -> None:
    rec = PatientRecord(
        id="p1",
        birth_date=date(1960, 6, 15),
        conditions=[
            ConditionItem(id="c1", code="44054006", onset=datetime(2010, 1, 1, tzinfo=UTC)),
            ConditionItem(
                id="c2",
                code="195967001",
                onset=datetime(2000, 1, 1, tzinfo=UTC),
                abatement=datetime(2005, 1, 1, tzinfo=UTC),
            ),
        ],
        medications=[
            MedicationItem(id="m1", code="860975", status="active", start=datetime(2010, 2, 1, tzinfo=UTC)),
            MedicationItem(id="m2", code="314076", status="stopped", start=datetime(2011, 1, 1, tzinfo=UTC)),
            MedicationItem(
                id="m3",
                code="197361",
                status="completed",
                start=datetime(2011, 1, 1, tzinfo=UTC),
                end=datetime(2012, 1, 1, tzinfo=UTC),
            ),
        ],
    )
    assert rec.age_at(date(2020, 6, 14)) == 59 and rec.age_at(date(2020, 6, 15)) == 60
    with pytest.raises(InputError):
        rec.age_at(date(1950, 1, 1))
    assert rec.has_condition({"44054006"}, date(2015, 1, 1)) and not rec.has_condition({"44054006"}, date(2009, 1, 1))
    assert rec.has_condition({"195967001"}, date(2003, 1, 1)) and not rec.has_condition({"195967001"}, date(2006, 1, 1))
    assert [m.id for m in rec.active_medications(date(2011, 6, 1))] == ["m1", "m3"]
    assert [m.id for m in rec.active_medications(date(2013, 1, 1))] == ["m1"]
    rec.medications[0].display = "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet"
    assert rec.active_ingredients(date(2013, 1, 1)) == {"6809": "metformin"}
    from theralab.ehr.terminology import snomed_descendants

    assert rec.has_condition(snomed_descendants("73211009"), date(2015, 1, 1))  # T2DM is a diabetes


def test_save_genotype_updates_in_place(engine) -> None:
    from theralab.ehr.patients import save_genotype

    bundle = generate_patient(seed=4, index=1)
    pid = bundle["entry"][0]["resource"]["id"]
    with session_scope(engine) as s:
        import_resources([bundle], s)
        first = save_genotype(s, pid, "cyp2d6", "*1/*4", phenotype="Intermediate Metabolizer", source="outside-call")
        again = save_genotype(s, pid, "CYP2D6", "*4/*4", phenotype="Poor Metabolizer", source="outside-call")
        with pytest.raises(NotFoundError):
            save_genotype(s, "nobody", "CYP2D6", "*1/*1")
        rec = load_patient(s, pid)
    assert first == again
    cyp2d6 = [g for g in rec.genotypes if g.gene == "CYP2D6"]
    assert len(cyp2d6) == 1 and cyp2d6[0].diplotype == "*4/*4"
    assert len(rec.genotypes) == 4  # the three synthetic FHIR genotypes stay
