"""The API shell: login, errors as 4xx JSON, jobs with progress stream, audit."""

from __future__ import annotations

import json
import time

from sqlalchemy import select

from theralab.privacy.tables import AuditEvent
from theralab.runtime.db import session_scope


def test_health_and_openapi(api):
    assert api.get("/v1/health").json()["status"] == "ok"
    paths = api.get("/openapi.json").json()["paths"]
    assert {"/v1/auth/token", "/v1/jobs", "/v1/jobs/{job_id}/events", "/v1/models"} <= set(paths)


def test_login_me_and_errors(api):
    bad = api.post("/v1/auth/token", data={"username": "res", "password": "nope"})
    assert bad.status_code == 401 and bad.json()["message"] == "wrong username or password"
    anonymous = api.get("/v1/auth/me")
    assert anonymous.status_code == 401 and "/v1/auth/token" in anonymous.json()["hint"]
    junk = api.get("/v1/auth/me", headers={"Authorization": "Bearer not.a.token"})
    assert junk.status_code == 401
    me = api.get("/v1/auth/me", headers=api.login("doc")).json()
    assert me == {"username": "doc", "roles": ["clinician"], "scopes": ["user/*.*"]}


def test_request_validation_is_a_422_saying_where(api):
    headers = api.login("res")
    response = api.post("/v1/jobs", json={"params": {}}, headers=headers)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "InputError" and body["where"] == "body.kind"
    typo = api.post("/v1/jobs", json={"kind": "selftest", "parms": {}}, headers=headers)
    assert typo.status_code == 422 and "parms" in typo.json()["where"]
    unknown = api.post("/v1/jobs", json={"kind": "nope"}, headers=headers)
    assert unknown.status_code == 422 and "known kinds" in unknown.json()["hint"]


def test_job_submit_poll_stream_download(api):
    headers = api.login("res")
    created = api.post("/v1/jobs", json={"kind": "selftest", "params": {"n": 30, "chunk_size": 10}}, headers=headers)
    assert created.status_code == 202
    job_id = created.json()["id"]
    events = []
    with api.stream("GET", f"/v1/jobs/{job_id}/events", headers=headers) as stream:
        for line in stream.iter_lines():
            if line.startswith("data: ") and line != "data: {}":
                events.append(json.loads(line[6:]))
    assert events[-1]["status"] == "succeeded"
    assert [e["done_chunks"] for e in events] == sorted(e["done_chunks"] for e in events)
    deadline = time.time() + 30
    while api.get(f"/v1/jobs/{job_id}", headers=headers).json()["status"] != "succeeded" and time.time() < deadline:
        time.sleep(0.2)
    result = api.get(f"/v1/jobs/{job_id}/result", headers=headers)
    assert result.status_code == 200 and result.content[:4] == b"PAR1"
    # another user may not see it; an admin may
    assert api.get(f"/v1/jobs/{job_id}", headers=api.login("doc")).status_code == 403
    assert api.get(f"/v1/jobs/{job_id}", headers=api.login("root")).status_code == 200
    assert api.get("/v1/jobs/unknown", headers=headers).status_code == 404
    with session_scope() as session:
        actions = [(e.actor, e.action, e.resource_id) for e in session.scalars(select(AuditEvent))]
    assert ("res", "job.submit", job_id) in actions


def test_models_listing(api):
    response = api.get("/v1/models", headers=api.login("res"))
    assert response.status_code == 200 and isinstance(response.json(), list)
    missing = api.get("/v1/models/not-a-model", headers=api.login("res"))
    assert missing.status_code == 404 and "registered" in missing.json()["hint"]
