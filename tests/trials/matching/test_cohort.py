"""Cohorts are the patients alive and born at the index date (issue 19)."""

from __future__ import annotations

from datetime import date

from theralab.trials.criteria.schemas import AgeRule, Criteria, Criterion
from theralab.trials.matching import evaluate_cohort, explain_patient


def _patient(pid: str, birth: str) -> dict:
    return {"resourceType": "Patient", "id": pid, "gender": "female", "birthDate": birth}


def test_funnel_leaves_out_patients_not_yet_born(tl_env):
    from theralab.ehr import tables as store
    from theralab.ehr.fhir import import_resources
    from theralab.runtime.db import Base, get_engine, session_scope

    Base.metadata.create_all(get_engine(), tables=store.ehr_tables())
    crit = Criteria(criteria=[Criterion(id="inc-1", kind="inclusion", text="Age < 90", age=AgeRule(max_years=90))])
    with session_scope() as s:
        import_resources([_patient("old", "1950-01-01"), _patient("young", "2015-06-01")], s)
        ev = evaluate_cohort(s, crit, at=date(2010, 1, 1))
        later = evaluate_cohort(s, crit, at=date(2016, 1, 1))
        m = explain_patient(s, crit, "young", at=date(2010, 1, 1))
    f = ev.funnel()
    assert ev.universe == {"old"} and f["patients"] == 1 and f["start"] == 1 and f["not_yet_born"] == 1
    assert later.universe == {"old", "young"} and later.funnel()["not_yet_born"] == 0
    assert m.eligibility == "ineligible" and m.criteria[0].criterion_id == "born"
