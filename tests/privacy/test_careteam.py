"""Object-level access (issue 18 part 3): a clinician sees the patients of their care teams only, on
every route and page that returns patient data; refusals are 403 and audited; an admin assigns teams."""

from __future__ import annotations

import json

import pytest


def _bearer(api, name: str, password: str, scope: str | None = None) -> dict[str, str]:
    data = {"username": name, "password": password}
    if scope:
        data["scope"] = scope
    resp = api.post("/v1/auth/token", data=data)
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


@pytest.fixture
def wards(api):
    """Patients A and B; clinician 'ann' on ward-a (A), 'bob' on ward-b (B); teams set by the admin over the API."""
    from theralab.ehr.synthetic import generate_cohort
    from theralab.privacy.auth import create_user
    from theralab.runtime.db import session_scope

    root = api.login("root")
    entries = [e for bundle in generate_cohort(2, seed=5) for e in bundle["entry"]]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    assert api.post("/v1/ehr/import", content=json.dumps(bundle), headers=root).status_code == 200
    a, b = [e["resource"]["id"] for e in entries if e["resource"]["resourceType"] == "Patient"]
    with session_scope() as session:
        create_user(session, "ann", "password-ann-ward", ["clinician"])
        create_user(session, "bob", "password-bob-ward", ["clinician"])
    for team, user, pid in (("ward-a", "ann", a), ("ward-b", "bob", b)):
        resp = api.post(f"/v1/privacy/care-teams/{team}/members", json={"username": user}, headers=root)
        assert resp.status_code == 201
        assert api.post(f"/v1/privacy/care-teams/{team}/patients", json={"patient_ids": [pid]},
                        headers=root).status_code == 201
    return {"a": a, "b": b, "ann": _bearer(api, "ann", "password-ann-ward"),
            "bob": _bearer(api, "bob", "password-bob-ward"), "root": root}


def _denied_events(actor: str, patient_id: str) -> int:
    from sqlalchemy import func, select

    from theralab.privacy.audit import seal
    from theralab.privacy.tables import AuditEvent
    from theralab.runtime.db import session_scope

    seal()
    with session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.actor == actor, AuditEvent.outcome == "denied", AuditEvent.patient_id == patient_id)) or 0)


def test_clinician_sees_own_team_and_is_refused_the_other_on_every_patient_route(api, wards):
    a, b, ann = wards["a"], wards["b"], wards["ann"]
    listing = api.get("/v1/ehr/patients", headers=ann).json()
    assert listing["total"] == 1 and [p["id"] for p in listing["items"]] == [a]
    ok = [f"/v1/ehr/patients/{a}", f"/v1/ehr/patients/{a}/fhir", f"/v1/privacy/consent/{a}",
          f"/v1/observations?patient_id={a}", f"/v1/observations/news2-history?patient_id={a}",
          f"/v1/trials/for-patient/{a}"]
    for url in ok:
        assert api.get(url, headers=ann).status_code == 200, url
    refused = [u.replace(a, b) for u in ok]
    for url in refused:
        resp = api.get(url, headers=ann)
        assert resp.status_code == 403, (url, resp.status_code)
        assert resp.json()["where"] == "patient_id"
    writes = [("POST", f"/v1/privacy/consent/{b}", {"purpose": "research", "granted": False}),
              ("POST", "/v1/devices", {"device_id": "dev-x", "patient_id": b}),
              ("POST", "/v1/assistant/exam-orders", {"patient_id": b, "exam": "ECG", "slot_kind": "ecg"}),
              ("POST", "/v1/assistant/links", {"username": "someone", "patient_id": b})]
    for method, url, body in writes:
        assert api.request(method, url, json=body, headers=ann).status_code == 403, url
    # each refused read names patient B in the audit trail
    assert _denied_events("ann", b) >= len(refused)
    # bob, on B's team, is refused A
    assert api.get(f"/v1/ehr/patients/{a}", headers=wards["bob"]).status_code == 403
    assert api.get(f"/v1/ehr/patients/{b}", headers=wards["bob"]).status_code == 200
    # alerts about patient B are hidden from A and refused to A, open to B's clinician
    from theralab.runtime import alerts
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        alert_b, _ = alerts.raise_alert(session, domain="monitoring", subject=wards["b"], rule="news2", severity="high",
                                        title="NEWS2 7", evidence={})
        alert_b = alert_b.id
    ann_ids = [x["id"] for x in api.get("/v1/alerts", headers=wards["ann"]).json()["items"]]
    bob_ids = [x["id"] for x in api.get("/v1/alerts", headers=wards["bob"]).json()["items"]]
    assert alert_b not in ann_ids and alert_b in bob_ids
    for action in ("acknowledge", "resolve"):
        assert api.post(f"/v1/alerts/{alert_b}/{action}", json={}, headers=wards["ann"]).status_code == 403
    assert api.get(f"/v1/alerts/{alert_b}/history", headers=wards["ann"]).status_code == 403
    assert api.post(f"/v1/alerts/{alert_b}/acknowledge", json={}, headers=wards["bob"]).status_code == 200


def test_imports_and_membership_changes_and_admin(api, wards, monkeypatch):
    """An import cannot touch a patient outside the team; membership changes apply at once; admin sees all."""
    from theralab.ehr.synthetic import generate_cohort

    b = wards["b"]
    patient = {"resourceType": "Patient", "id": b, "name": [{"family": "Overwritten", "given": ["X"]}]}
    resp = api.post("/v1/ehr/import", content=json.dumps({"resourceType": "Bundle", "type": "collection",
                                                           "entry": [{"resource": patient}]}), headers=wards["ann"])
    assert resp.status_code == 403
    assert api.get(f"/v1/ehr/patients/{b}", headers=wards["bob"]).json()["family"] != "Overwritten"
    # nor by a urn:uuid full URL, an absolute or a JSON-escaped reference
    sneaky = [{"fullUrl": f"urn:uuid:{b}", "resource": {"resourceType": "Patient", "gender": "other"}},
              {"resource": {"resourceType": "Observation", "id": "o-x", "status": "final",
                            "subject": {"reference": f"https://ehr.example/fhir/Patient/{b}"},
                            "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]}}}]
    for entry in sneaky:
        body = json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [entry]})
        assert api.post("/v1/ehr/import", content=body, headers=wards["ann"]).status_code == 403
    escaped = json.dumps({"resourceType": "Observation", "id": "o-y", "status": "final",
                          "subject": {"reference": f"Patient/{b}"}}).replace("Patient/", "Patient\\/")
    assert api.post("/v1/ehr/import", content=escaped, headers=wards["ann"]).status_code == 403
    # new patients import fine (and are not visible until an admin assigns them)
    fresh = [e for bundle in generate_cohort(1, seed=11) for e in bundle["entry"]]
    resp = api.post("/v1/ehr/import", content=json.dumps({"resourceType": "Bundle", "type": "collection",
                                                           "entry": fresh}), headers=wards["ann"])
    assert resp.status_code == 200
    assert api.get("/v1/ehr/patients", headers=wards["ann"]).json()["total"] == 1
    a, root = wards["a"], wards["root"]
    assert api.get("/v1/ehr/patients", headers=root).json()["total"] == 3  # admin sees all, the new one too
    assert api.delete("/v1/privacy/care-teams/ward-a/members/ann", headers=root).json() == {"changed": 1}
    assert api.get(f"/v1/ehr/patients/{a}", headers=wards["ann"]).status_code == 403  # same token, next request
    assert api.get("/v1/ehr/patients", headers=wards["ann"]).json()["total"] == 0
    teams = {t["team"]: t for t in api.get("/v1/privacy/care-teams", headers=root).json()}
    assert teams["ward-a"]["members"] == [] and teams["ward-b"]["members"] == ["bob"]
    # a clinician cannot assign teams
    assert api.post("/v1/privacy/care-teams/ward-a/members", json={"username": "ann"},
                    headers=wards["bob"]).status_code == 403
    # a team may hold every patient ('*'), and lose it again
    assert api.post("/v1/privacy/care-teams/ward-b/patients", json={"patient_ids": ["*"]},
                    headers=root).json() == {"changed": 1}
    assert api.get(f"/v1/ehr/patients/{a}", headers=wards["bob"]).status_code == 200
    assert api.delete("/v1/privacy/care-teams/ward-b/patients/*", headers=root).json() == {"changed": 1}
    assert api.get(f"/v1/ehr/patients/{a}", headers=wards["bob"]).status_code == 403
    # a site may switch care teams off: every clinician sees every patient
    monkeypatch.setenv("THERALAB_CARE_TEAMS", "off")
    assert api.get(f"/v1/ehr/patients/{wards['b']}", headers=wards["ann"]).status_code == 200


def test_web_pages_apply_the_care_team_and_patient_scopes_see_nobody(api, wards):
    # a staff token that asked only for patient/ scopes has no patient in context: it sees nobody
    narrow = _bearer(api, "ann", "password-ann-ward", scope="patient/*.read")
    assert api.get(f"/v1/ehr/patients/{wards['a']}", headers=narrow).status_code == 403
    api.cookies.clear()
    resp = api.post("/login", data={"username": "ann", "password": "password-ann-ward"}, follow_redirects=False)
    assert resp.status_code == 303
    page = api.get("/ehr")
    assert page.status_code == 200 and wards["a"] in page.text and wards["b"] not in page.text
    assert api.get(f"/ehr/patients/{wards['b']}").status_code == 403
    assert api.get(f"/monitoring/patients/{wards['b']}").status_code == 403
    api.cookies.clear()
