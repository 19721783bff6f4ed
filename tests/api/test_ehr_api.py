"""``/v1/ehr`` through FastAPI's TestClient: roles, audit, import, read, FHIR export."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select

import theralab.privacy.deps as deps
from theralab.ehr.synthetic.cohort import generate_cohort


def _client(app, *roles: str) -> TestClient:
    app.dependency_overrides[deps.get_current_user] = lambda: deps.Principal("t", frozenset(roles))
    return TestClient(app)


def _audit_actions() -> list[tuple[str, str]]:
    from theralab.privacy.tables import AuditEvent
    from theralab.runtime.db import session_scope

    with session_scope() as s:
        return [(e.action, e.resource_id) for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_import_read_export_with_audit(app) -> None:
    client = _client(app, "clinician")
    bundles = list(generate_cohort(3, seed=2))
    r = client.post("/v1/ehr/import", content=json.dumps(bundles[0]), headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json()["loaded"]["Patient"] == 1 and r.json()["errors"] == []
    ndjson = "\n".join(json.dumps(b) for b in bundles[1:])
    r = client.post("/v1/ehr/import", files={"file": ("more.ndjson", ndjson, "application/x-ndjson")})
    assert r.status_code == 200 and r.json()["loaded"]["Patient"] == 2
    r = client.get("/v1/ehr/patients")
    assert r.status_code == 200 and r.json()["total"] == 3
    pid = bundles[0]["entry"][0]["resource"]["id"]
    r = client.get(f"/v1/ehr/patients/{pid}")
    assert r.status_code == 200
    assert {g["gene"] for g in r.json()["genotypes"]} == {"CYP2C19", "CYP2C9", "SLCO1B1"}
    r = client.get(f"/v1/ehr/patients/{pid}/fhir")
    assert r.status_code == 200 and r.json()["resourceType"] == "Bundle"
    r = client.get("/v1/ehr/patients/nobody")
    assert r.status_code == 404 and r.json()["where"] == "Patient/nobody"
    actions = _audit_actions()
    assert ("ehr.read", pid) in actions and ("ehr.export", pid) in actions
    assert [a for a, _ in actions].count("ehr.import") == 2
    assert not any("CYP2C19" in rid for _, rid in actions)  # identifiers only, no payload


def test_bad_input_is_a_clear_error(app) -> None:
    client = _client(app, "researcher")
    r = client.post("/v1/ehr/import", content=b"", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "empty upload" in r.json()["message"]
    bad = {"resourceType": "Patient", "id": "p1", "birthDate": "2999-01-01"}
    r = client.post("/v1/ehr/import", content=json.dumps(bad), headers={"content-type": "application/json"})
    assert r.status_code == 200
    err = r.json()["errors"][0]
    assert err["resource_id"] == "p1" and err["path"] == "birthDate" and "future" in err["message"]


def test_patient_role_is_forbidden(app) -> None:
    client = _client(app, "patient")
    assert client.get("/v1/ehr/patients").status_code == 403
    assert client.get("/v1/ehr/patients/x/fhir").status_code == 403
