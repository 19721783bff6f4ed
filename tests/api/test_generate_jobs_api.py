"""``generate.run`` jobs over the API: strict parameters, roles, audit, live progress, results."""

from __future__ import annotations

import io
import time

import pandas as pd

START = ["CCO", "CCN(CC)CC", "c1ccccc1", "CC(=O)Oc1ccccc1C(=O)O", "CCOC(=O)c1ccccc1", "OCCN", "c1ccncc1"]
SPEC = {"run": {"optimizer": "ga", "budget": 60, "start_smiles": START, "top_k": 20},
        "scoring": {"components": [{"name": "qed", "type": "qed"}]},
        "ga": {"population_size": 10, "offspring_size": 10}}


def _wait(api, job_id, headers, limit=120):
    deadline = time.time() + limit
    while time.time() < deadline:
        job = api.get(f"/v1/jobs/{job_id}", headers=headers).json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def test_generate_job_end_to_end(api, monkeypatch):
    monkeypatch.setenv("THERALAB_WORKERS", "1")
    h = api.login("res")
    r = api.post("/v1/jobs", json={"kind": "generate.run", "params": {"spec": SPEC, "chunk_budget": 30}}, headers=h)
    assert r.status_code == 202, r.text
    job = _wait(api, r.json()["id"], h)
    assert job["status"] == "succeeded", job
    assert job["result_name"] == "results.csv" and "/" not in str(job["params"])  # no server path shown
    live = api.get(f"/v1/generate/jobs/{job['id']}?top=5", headers=h)
    assert live.status_code == 200, live.text
    body = live.json()
    assert body["optimizer"] == "ga" and body["budget"] == 60 and len(body["chunks"]) == 2
    assert body["points"] and body["chunks"][-1]["calls"] == 60
    assert len(body["molecules"]) == 5 and body["molecules"][0]["rank"] == 1
    assert "qed" in body["molecules"][0]["components"]
    table = pd.read_csv(io.BytesIO(api.get(f"/v1/jobs/{job['id']}/result", headers=h).content))
    assert table["score"].is_monotonic_decreasing and len(table) == 20
    # another user cannot read it; the audit trail records the reads
    other = api.get(f"/v1/generate/jobs/{job['id']}", headers=api.login("doc"))
    assert other.status_code == 403
    from sqlalchemy import select

    from theralab.privacy.tables import AuditEvent
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        actions = {e.action for e in session.scalars(select(AuditEvent))}
    assert {"job.submit", "generate.job.read"} <= actions


BAD = [
    ({"spec": {**SPEC, "scoring": {"components": [{"name": "x", "type": "custom", "function": "os:system"}]}}},
     "params.spec.scoring.components"),
    ({"spec": {**SPEC, "run": {**SPEC["run"], "prior": "/etc/prior.pt"}}}, "run.prior"),
    ({"spec": {**SPEC, "run": {**SPEC["run"], "prior": "no-such-model"}}}, "run.prior"),
    ({"spec": {**SPEC, "run": {**SPEC["run"], "budget": 50_000}}}, "params.spec.run.budget"),
    ({"spec": SPEC, "output": "/tmp/x.csv"}, "params.output"),
    ({"spec": {**SPEC, "rl": {"sigma": -1}}}, "params.spec"),
    ({"spec": SPEC, "chunk_budget": 1}, "params.chunk_budget"),
]


def test_bad_generate_jobs_are_4xx_before_any_job(api):
    h = api.login("res")
    for params, where in BAD:  # one app for all cases: each login/migration costs seconds
        r = api.post("/v1/jobs", json={"kind": "generate.run", "params": params}, headers=h)
        assert r.status_code == 422, (params, r.text)
        assert where in (r.json().get("where") or ""), r.json()
    assert api.get("/v1/jobs", headers=h).json() == []
    # roles: a patient may neither submit nor read; a job of another kind is not a generate job
    pat = api.login("pat")
    assert api.post("/v1/jobs", json={"kind": "generate.run", "params": {"spec": SPEC}}, headers=pat).status_code == 403
    assert api.get("/v1/generate/jobs/abc", headers=pat).status_code == 403
    r = api.post("/v1/jobs", json={"kind": "selftest", "params": {"n": 2, "chunk_size": 1}}, headers=h)
    assert r.status_code == 202, r.text
    assert api.get(f"/v1/generate/jobs/{r.json()['id']}", headers=h).status_code == 422
