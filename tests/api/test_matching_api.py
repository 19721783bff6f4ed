"""``/v1/trials``: add, read, correct, match, funnel, explain; roles and audit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from theralab.trials.matching.synthetic import benchmark_trial

AT = "2025-01-01"


@pytest.fixture
def loaded(api):
    from theralab.ehr import tables as store
    from theralab.ehr.fhir.ingest import import_resources
    from theralab.ehr.synthetic.cohort import generate_cohort
    from theralab.runtime.db import Base, get_engine, session_scope
    from theralab.trials import tables as tstore

    Base.metadata.create_all(get_engine(), tables=store.ehr_tables() + tstore.trial_tables())
    with session_scope() as s:
        import_resources(list(generate_cohort(40, 2)), s, validate=False)
    return api


def _audit():
    from theralab.privacy.tables import AuditEvent
    from theralab.runtime.db import session_scope

    with session_scope() as s:
        return [(e.actor, e.action, e.resource_id) for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_trial_lifecycle_and_matching(loaded):
    api = loaded
    res, pat = api.login("res"), api.login("pat")
    body = {"id": "SYN-1", "title": "Synthetic T2D", "criteria": benchmark_trial().model_dump(mode="json")}
    assert api.post("/v1/trials", json=body, headers=pat).status_code == 403
    r = api.post("/v1/trials", json=body, headers=res)
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 1 and len(r.json()["criteria"]["criteria"]) == 15
    assert api.post("/v1/trials", json=body, headers=res).status_code == 409
    assert api.get("/v1/trials", headers=pat).json()[0]["id"] == "SYN-1"  # criteria are not patient data

    f = api.get(f"/v1/trials/SYN-1/funnel?at={AT}", headers=res).json()
    assert f["start"] == 40 and len(f["steps"]) == 15
    assert f["eligible"] + f["not_enough_information"] + f["ineligible"] == 40
    assert api.get(f"/v1/trials/SYN-1/funnel?at={AT}", headers=pat).status_code == 403

    m = api.get(f"/v1/trials/SYN-1/match?at={AT}&limit=5", headers=res).json()
    assert m["patients"] == 40 and len(m["items"]) == 5
    pid = m["items"][0]["patient_id"]
    e = api.get(f"/v1/trials/SYN-1/patients/{pid}?at={AT}", headers=res).json()
    assert e["patient_id"] == pid and len(e["criteria"]) == 15
    assert (e["passed"], e["failed"], e["unknown"]) == (m["items"][0]["passed"], m["items"][0]["failed"],
                                                       m["items"][0]["unknown"])
    age = e["criteria"][0]["checks"][0]["evidence"][0]
    assert age["resource"] == f"Patient/{pid}" and "years old" in age["text"]
    assert api.get(f"/v1/trials/SYN-1/patients/nobody?at={AT}", headers=res).status_code == 404
    assert api.get("/v1/trials/NOPE/match", headers=res).status_code == 404

    # a correction: widen the age range to 18-90; the funnel's first step must remove fewer patients
    corr = {"note": "protocol amendment 2", "edits": [{"op": "update_criterion", "criterion_id": "inc-1",
                                                       "values": {"age": {"min_years": 18, "max_years": 90}}}]}
    r = api.put("/v1/trials/SYN-1/criteria", json=corr, headers=res)
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["version"] == 2 and t["versions"][-1]["author"] == "res" and t["versions"][-1]["kind"] == "correction"
    f2 = api.get(f"/v1/trials/SYN-1/funnel?at={AT}", headers=res).json()
    assert f2["version"] == 2 and f2["steps"][0]["removed"] == 0 < f["steps"][0]["removed"]
    bad = {"edits": [{"op": "update_entity", "criterion_id": "inc-9", "entity_id": "x", "values": {}}]}
    r = api.put("/v1/trials/SYN-1/criteria", json=bad, headers=res)
    assert r.status_code == 422 and "inc-9" in r.json()["message"]
    assert api.get("/v1/trials/SYN-1", headers=res).json()["version"] == 2

    ranked = api.get(f"/v1/trials/for-patient/{pid}?at={AT}", headers=res).json()
    assert ranked[0]["trial_id"] == "SYN-1"
    events = _audit()
    assert ("res", "trials.match.patient", pid) in events
    assert ("res", "trials.funnel", "SYN-1") in events and ("res", "trials.match.cohort", "SYN-1") in events


def test_add_from_text_and_bad_input(loaded):
    api = loaded
    doc = api.login("doc")
    r = api.post("/v1/trials", json={"id": "T2", "criteria_text": "", "criteria": None}, headers=doc)
    assert r.status_code == 422
    r = api.post("/v1/trials", json={"id": "bad id!", "criteria": benchmark_trial().model_dump(mode="json")},
                 headers=doc)
    assert r.status_code == 422 and r.json()["where"] == "trial_id"
    text = "Inclusion Criteria:\n- Type 2 diabetes\n- HbA1c between 7% and 10%\nExclusion Criteria:\n- Current warfarin"
    r = api.post("/v1/trials", json={"id": "T2", "criteria_text": text}, headers=doc)
    if r.status_code == 400 and r.json()["error"] == "ModelError":
        pytest.skip("criteria NER weights not available")
    assert r.status_code == 201, r.text
    crit = r.json()["criteria"]
    assert [c["kind"] for c in crit["criteria"]] == ["inclusion", "inclusion", "exclusion"]
    m = api.get(f"/v1/trials/T2/match?at={AT}&limit=40", headers=doc).json()
    assert {i["eligibility"] for i in m["items"]} <= {"eligible", "unknown", "ineligible"}
