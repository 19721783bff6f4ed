"""Matching on a synthetic cohort where the truth is known by construction, on SQLite and PostgreSQL.

The oracle (:mod:`theralab.trials.matching.synthetic`) reads the generator's FHIR resources with
plain Python; the engine reads the database with SQL. Structured criteria are deterministic, so the
criterion-level agreement must be exact (100 %), not approximately right.
"""

from __future__ import annotations

from datetime import date

import pytest

from theralab.trials.criteria.schemas import (
    AgeRule,
    Code,
    Criteria,
    Criterion,
    CriterionEntity,
    Logic,
    NumericConstraint,
)
from theralab.trials.matching.engine import evaluate_cohort, explain_patient, plan
from theralab.trials.matching.evaluate import State, kleene
from theralab.trials.matching.synthetic import REFERENCE_AT, FhirPatient, benchmark_trial, criterion_accuracy

N = 120


@pytest.fixture
def cohort(db_url):
    """N synthetic patients loaded into a fresh database (SQLite file, then PostgreSQL schema)."""
    from theralab.ehr import tables as store
    from theralab.ehr.fhir.ingest import import_resources
    from theralab.ehr.synthetic.cohort import generate_cohort
    from theralab.runtime.db import Base, get_engine, session_scope
    from theralab.trials import tables as tstore

    engine = get_engine(db_url)
    Base.metadata.create_all(engine, tables=store.ehr_tables() + tstore.trial_tables())
    bundles = list(generate_cohort(N, 11))
    with session_scope(engine) as s:
        report = import_resources(bundles, s, validate=False)
    assert not report.errors
    patients = [FhirPatient([e["resource"] for e in b["entry"]]) for b in bundles]
    return engine, patients


def test_structured_criteria_agree_with_truth_on_every_patient(cohort):
    from theralab.runtime.db import session_scope

    engine, patients = cohort
    with session_scope(engine) as s:
        result = criterion_accuracy(s, patients)
    assert result["disagreements"] == []
    assert result["pairs"] == N * 15
    assert result["accuracy"] == 1.0
    counts = {c["criterion_id"]: c for c in result["status_counts"]}
    # the test discriminates: most criteria split the cohort both ways
    split = [cid for cid, c in counts.items() if c["met"] and c["not_met"]]
    assert len(split) >= 12, counts
    # family history: patients without any FamilyMemberHistory are 'not enough information'
    assert counts["exc-7"]["unknown"] > 0
    # labs exist for everyone in the synthetic cohort
    assert counts["inc-3"]["unknown"] == 0


def test_explanation_agrees_with_cohort_and_cites_resources(cohort):
    from theralab.runtime.db import session_scope

    engine, patients = cohort
    crit = benchmark_trial()
    with session_scope(engine) as s:
        ev = evaluate_cohort(s, crit, at=REFERENCE_AT)
        for p in patients[:25]:
            m = explain_patient(s, crit, p.id, at=REFERENCE_AT, notes=False)
            assert {r.criterion_id: r.status for r in m.criteria} == ev.status_of(p.id)
            row = next(r for r in ev.ranked(limit=None) if r["patient_id"] == p.id)
            assert (m.eligibility, m.passed, m.failed, m.unknown) == (
                row["eligibility"], row["passed"], row["failed"], row["unknown"])
        # the HbA1c criterion (IFCC mmol/mol) is judged on the record's % value, with the resource id
        m = explain_patient(s, crit, patients[0].id, at=REFERENCE_AT, notes=False)
        a1c = next(r for r in m.criteria if r.criterion_id == "inc-3").checks[0]
        assert a1c.evidence[0].resource.startswith("Observation/")
        assert "%" in a1c.evidence[0].text and ("between 7 and 10.02" in a1c.reason)


def test_funnel_is_consistent_with_ranking(cohort):
    from theralab.runtime.db import session_scope

    engine, _ = cohort
    with session_scope(engine) as s:
        ev = evaluate_cohort(s, benchmark_trial(), at=REFERENCE_AT)
    f = ev.funnel()
    assert f["start"] == N and f["deceased"] == 0
    left = f["start"]
    for step in f["steps"]:
        assert step["remaining"] == left - step["removed"]
        left = step["remaining"]
    ranked = ev.ranked(limit=None)
    assert sum(r["eligibility"] == "eligible" for r in ranked) == f["eligible"]
    assert sum(r["eligibility"] == "unknown" for r in ranked) == f["not_enough_information"]
    assert sum(r["eligibility"] == "ineligible" for r in ranked) == f["ineligible"]
    order = [r["eligibility"] for r in ranked]
    assert order == sorted(order, key={"eligible": 0, "unknown": 1, "ineligible": 2}.get)


def test_kleene_logic():
    u = {"a", "b", "c"}
    s = {"x": State({"a"}, {"b"}, {"c"}), "y": State({"a", "b"}, set(), {"c"}), "z": State(set(), {"c"}, {"a", "b"})}
    both = kleene(("AND", ["x", "y"]), s, u)
    assert (both.t, both.f, both.u) == ({"a"}, {"b"}, {"c"})
    either = kleene(("OR", ["x", "z"]), s, u)  # a: T or U = T; b: F or U = U; c: U or F = U
    assert (either.t, either.f, either.u) == ({"a"}, set(), {"b", "c"})
    none = kleene(None, s, u)
    assert none.u == u


def _ent(eid, etype, text, codes, **kw):
    return CriterionEntity(id=eid, type=etype, text=text, start=0, end=len(text),
                           codes=[Code(system=a, code=b) for a, b in codes], **kw)


def test_header_with_any_of_groups_its_children():
    crit = Criteria(criteria=[
        Criterion(id="inc-1", kind="inclusion", text="Any of the following:"),
        Criterion(id="inc-2", kind="inclusion", text="Type 2 diabetes", parent="inc-1", level=1,
                  entities=[_ent("e1", "condition", "type 2 diabetes", [("snomed", "44054006")])],
                  logic=Logic(op="AND", args=["e1"])),
        Criterion(id="inc-3", kind="inclusion", text="Hypertension", parent="inc-1", level=1,
                  entities=[_ent("e2", "condition", "hypertension", [("snomed", "38341003")])],
                  logic=Logic(op="AND", args=["e2"])),
        Criterion(id="exc-1", kind="exclusion", text="The following conditions:"),
        Criterion(id="exc-2", kind="exclusion", text="Asthma", parent="exc-1", level=1,
                  entities=[_ent("e3", "condition", "asthma", [("snomed", "195967001")])],
                  logic=Logic(op="AND", args=["e3"])),
    ])
    plans = plan(crit)
    assert [p.criterion.id for p in plans] == ["inc-1", "exc-1", "exc-2"]
    assert plans[0].grouped == ["inc-2", "inc-3"] and plans[0].expr[0] == "OR"
    assert plans[1].skipped and not plans[2].skipped


def _bare_patient(pid: str, *, birth: str | None = "1970-05-01", gender: str = "female") -> dict:
    res = {"resourceType": "Patient", "id": pid, "gender": gender}
    if birth:
        res["birthDate"] = birth
    return res


def test_patient_without_data_is_never_eligible(tl_env):
    from theralab.ehr import tables as store
    from theralab.ehr.fhir.ingest import import_resources
    from theralab.runtime.db import Base, get_engine, session_scope

    Base.metadata.create_all(get_engine(), tables=store.ehr_tables())
    crit = benchmark_trial()
    with session_scope() as s:
        import_resources([_bare_patient("empty-1", birth=None)], s)
        m = explain_patient(s, crit, "empty-1", at=REFERENCE_AT)
        ev = evaluate_cohort(s, crit, at=REFERENCE_AT)
    assert m.eligibility == "unknown"
    statuses = {r.criterion_id: r.status for r in m.criteria}
    assert statuses["inc-1"] == "unknown"  # no birth date
    assert statuses["inc-2"] == "unknown"  # no clinical record at all: absence proves nothing
    assert statuses["exc-1"] == "unknown"
    assert "no clinical data" in next(r for r in m.criteria if r.criterion_id == "inc-2").checks[0].reason
    assert ev.funnel()["eligible"] == 0


def test_unconvertible_unit_and_uln_are_not_enough_information(tl_env):
    from theralab.ehr import tables as store
    from theralab.ehr.fhir.ingest import import_resources
    from theralab.ehr.synthetic.cohort import generate_cohort
    from theralab.runtime.db import Base, get_engine, session_scope

    Base.metadata.create_all(get_engine(), tables=store.ehr_tables())
    bad_unit = NumericConstraint(comparator="<", value=7, unit="kg")  # HbA1c in kg: does not convert
    uln = NumericConstraint(comparator=">", value=3, relative_to="ULN", unit="x ULN")
    crit = Criteria(criteria=[
        Criterion(id="inc-1", kind="inclusion", text="HbA1c < 7 kg",
                  entities=[_ent("e1", "measurement", "HbA1c", [("loinc", "4548-4")], constraint=bad_unit)],
                  logic=Logic(op="AND", args=["e1"])),
        Criterion(id="exc-1", kind="exclusion", text="ALT > 3 x ULN",
                  entities=[_ent("e2", "measurement", "ALT", [("loinc", "1742-6")], constraint=uln)],
                  logic=Logic(op="AND", args=["e2"])),
        Criterion(id="exc-2", kind="exclusion", text="Sickle cell disease",
                  entities=[_ent("e3", "condition", "sickle cell disease", [])], logic=Logic(op="AND", args=["e3"])),
    ])
    with session_scope() as s:
        import_resources(list(generate_cohort(3, 5)), s, validate=False)
        pid = s.scalars(store.PatientRow.__table__.select().with_only_columns(store.PatientRow.id)).first()
        m = explain_patient(s, crit, pid, at=REFERENCE_AT, notes=False)
    by = {r.criterion_id: r for r in m.criteria}
    assert by["inc-1"].status == "unknown" and "'kg' does not convert" in by["inc-1"].checks[0].reason
    assert by["exc-1"].status == "unknown" and "ULN" in by["exc-1"].checks[0].reason
    assert by["exc-2"].status == "unknown" and "has no code" in by["exc-2"].checks[0].reason
    assert m.eligibility == "unknown"


def test_deceased_patients_leave_the_cohort_first(tl_env):
    from theralab.ehr import tables as store
    from theralab.ehr.fhir.ingest import import_resources
    from theralab.runtime.db import Base, get_engine, session_scope

    Base.metadata.create_all(get_engine(), tables=store.ehr_tables())
    dead = _bare_patient("dead-1") | {"deceasedDateTime": "2020-03-01T00:00:00Z"}
    crit = Criteria(criteria=[Criterion(id="inc-1", kind="inclusion", text="Age >= 18",
                                        age=AgeRule(min_years=18))])
    with session_scope() as s:
        import_resources([dead, _bare_patient("alive-1")], s)
        ev = evaluate_cohort(s, crit, at=date(2024, 1, 1))
        early = evaluate_cohort(s, crit, at=date(2019, 1, 1))
        m = explain_patient(s, crit, "dead-1", at=date(2024, 1, 1))
    assert ev.universe == {"alive-1"} and ev.funnel()["deceased"] == 1
    assert early.universe == {"alive-1", "dead-1"}
    assert m.eligibility == "ineligible" and m.criteria[0].criterion_id == "alive"


def test_age_bounds_in_completed_years(tl_env):
    from theralab.ehr import tables as store
    from theralab.ehr.fhir.ingest import import_resources
    from theralab.runtime.db import Base, get_engine, session_scope

    Base.metadata.create_all(get_engine(), tables=store.ehr_tables())
    crit = Criteria(criteria=[Criterion(id="inc-1", kind="inclusion", text="18 to 65 years",
                                        age=AgeRule(min_years=18, max_years=65))])
    with session_scope() as s:
        import_resources([_bare_patient("b18", birth="2006-01-01"), _bare_patient("b17", birth="2006-01-02"),
                          _bare_patient("b65", birth="1958-01-02"), _bare_patient("b66", birth="1958-01-01"),
                          _bare_patient("leap", birth="2004-02-29")], s)
        ev = evaluate_cohort(s, crit, at=date(2024, 1, 1))
        rule = Criteria(criteria=[Criterion(id="inc-1", kind="inclusion", text=">= 20", age=AgeRule(min_years=20))])
        day_before = evaluate_cohort(s, rule, at=date(2024, 2, 28))
        birthday = evaluate_cohort(s, rule, at=date(2024, 2, 29))
    st = ev.states["inc-1"]
    assert st.t == {"b18", "b65", "leap"} and st.f == {"b17", "b66"}
    assert "leap" in day_before.states["inc-1"].f and "leap" in birthday.states["inc-1"].t


def test_context_words_tagged_as_entities_are_ignored():
    """A parse that tags 'History' in 'History of asthma' as an uncoded entity must not make the criterion unknown."""
    hist = _ent("h", "observation", "History", [])
    asthma = _ent("a", "condition", "asthma", [("snomed", "195967001")], historical=True)
    crit = Criteria(criteria=[Criterion(id="exc-1", kind="exclusion", text="History of asthma",
                                        entities=[hist, asthma], logic=Logic(op="AND", args=["h", "a"]))])
    p = plan(crit)[0]
    assert p.expr == "a" and set(p.atoms) == {"a"}
