"""Finding 1 of issue 18: jobs over the API take data (uploads, libraries by id), never server paths.

Before the fix a patient token ran ``chem.profile`` with ``params.input`` naming a CSV outside the
data directory and downloaded it, and ``params.output`` overwrote another file. These tests fail on
that code (the path keys were accepted) and pass now.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

SECRET = "id,smiles\nsecret-row,CCO\n"


@pytest.fixture
def outside(tmp_path):
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.csv").write_text(SECRET)
    (folder / "victim.csv").write_text("untouched\n")
    return folder


def _wait(api, job_id, headers, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = api.get(f"/v1/jobs/{job_id}", headers=headers).json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def test_patient_can_neither_read_nor_write_outside_its_jobs(api, outside):
    pat = api.login("pat")
    for params in ({"input": str(outside / "secret.csv")}, {"upload_id": "x"},
                   {"input": str(outside / "secret.csv"), "output": str(outside / "victim.csv")}):
        resp = api.post("/v1/jobs", json={"kind": "chem.profile", "params": params}, headers=pat)
        assert resp.status_code == 403, resp.text
    assert api.post("/v1/jobs", json={"kind": "admet.predict", "params": {"upload_id": "x"}},
                    headers=pat).status_code == 403
    up = api.post("/v1/jobs/uploads", files={"file": ("m.smi", b"CCO a\n")}, headers=pat)
    assert up.status_code == 403
    assert api.get("/v1/jobs", headers=pat).json() == []
    assert (outside / "victim.csv").read_text() == "untouched\n"
    # the refusals are audited
    from sqlalchemy import select

    from theralab.privacy.tables import AuditEvent
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        denied = session.scalars(select(AuditEvent).where(AuditEvent.actor == "pat",
                                                          AuditEvent.outcome == "denied")).all()
    assert len(denied) >= 4


@pytest.mark.parametrize(
    ("kind", "params", "where"),
    [
        ("chem.profile", {"input": "SECRET"}, "params.input"),
        ("chem.profile", {"upload_id": "U", "output": "VICTIM"}, "params.output"),
        ("admet.predict", {"upload_id": "U", "output": "VICTIM"}, "params.output"),
        ("admet.predict", {"upload_id": "U", "model": "/etc"}, "params.model"),
        ("selftest", {"crash_once_dir": "OUTSIDE"}, "params.crash_once_dir"),
        ("selftest", {"attempt_log_dir": "OUTSIDE"}, "params.attempt_log_dir"),
        ("chem.profile", {"upload_id": "../../outside"}, "upload_id"),
        ("chem.profile", {"library": "../../outside"}, "library"),
        ("screen.run", {"run": {"library": "SECRET"}}, "library"),
        ("screen.run", {"run": {"upload_id": "U", "output_dir": "OUTSIDE"}}, "params.run.output_dir"),
        ("screen.run", {"run": {"upload_id": "U"}, "similarity": {"actives": ["SECRET"]}},
         "params.similarity.actives.0"),
    ],
)
def test_server_paths_are_refused(api, outside, kind, params, where):
    res = api.login("res")
    up = api.post("/v1/jobs/uploads", files={"file": ("m.smi", b"CCO a\n")}, headers=res).json()
    subst = {"SECRET": str(outside / "secret.csv"), "VICTIM": str(outside / "victim.csv"),
             "OUTSIDE": str(outside), "U": up["upload_id"]}

    def fill(v):
        if isinstance(v, dict):
            return {k: fill(x) for k, x in v.items()}
        if isinstance(v, list):
            return [fill(x) for x in v]
        return subst.get(v, v) if isinstance(v, str) else v

    resp = api.post("/v1/jobs", json={"kind": kind, "params": fill(params)}, headers=res)
    assert resp.status_code in (403, 404, 422), resp.text
    assert where in (resp.json()["where"] or ""), resp.json()
    assert (outside / "victim.csv").read_text() == "untouched\n"
    assert not list(outside.glob("crashed-*")) and not list(outside.glob("run-*"))


def test_another_users_upload_is_not_found(api):
    mine = api.post("/v1/jobs/uploads", files={"file": ("m.smi", b"CCO a\n")}, headers=api.login("res")).json()
    resp = api.post("/v1/jobs", json={"kind": "chem.profile", "params": {"upload_id": mine["upload_id"]}},
                    headers=api.login("doc"))
    assert resp.status_code == 404 and resp.json()["where"] == "upload_id"


def test_upload_runs_in_the_jobs_own_folder(api, tl_env):
    res = api.login("res")
    bad = api.post("/v1/jobs/uploads", files={"file": ("x.exe", b"MZ")}, headers=res)
    assert bad.status_code == 422 and bad.json()["where"] == "file"
    empty = api.post("/v1/jobs/uploads", files={"file": ("x.smi", b"")}, headers=res)
    assert empty.status_code == 422
    up = api.post("/v1/jobs/uploads", files={"file": ("../../mols.smi", b"CCO ethanol\nc1ccccc1 benzene\n")},
                  headers=res)
    assert up.status_code == 201 and up.json()["filename"] == "mols.smi"
    created = api.post("/v1/jobs", json={"kind": "chem.profile", "params": {"upload_id": up.json()["upload_id"],
                                                                            "format": "csv"}}, headers=res)
    assert created.status_code == 202, created.text
    body = created.json()
    assert "/" not in str(body["params"].get("input")) and "/" not in str(body["params"].get("output"))
    job = _wait(api, body["id"], res)
    assert job["status"] == "succeeded", job
    assert job["result_name"] == "profile.csv"
    from theralab.runtime.jobs import get_job, job_dir

    location = Path(get_job(body["id"])["result_location"]).resolve()
    assert job_dir(body["id"]).resolve() in location.parents
    result = api.get(f"/v1/jobs/{body['id']}/result", headers=res)
    assert result.status_code == 200 and b"ethanol" in result.content
    assert api.get(f"/v1/jobs/{body['id']}/result", headers=api.login("pat")).status_code == 403


def test_confined_follows_symlinks(tmp_path):
    from theralab.errors import ForbiddenError
    from theralab.privacy.confine import confined

    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret").write_text("x")
    (root / "link").symlink_to(tmp_path / "secret")
    with pytest.raises(ForbiddenError):
        confined(root / "link", root)
    with pytest.raises(ForbiddenError):
        confined(root / ".." / "secret", root)
    assert confined(root / "a" / "b", root) == (root / "a" / "b").resolve()


def test_web_screening_upload_never_overwrites_a_library(api, tl_env, monkeypatch):
    from theralab.runtime import jobs

    monkeypatch.setattr(jobs, "start_in_background", lambda job_id: None)
    library = tl_env.data_dir / "libraries" / "demo.csv"
    library.parent.mkdir(parents=True, exist_ok=True)
    library.write_text("smiles,id\nCCO,ethanol\n")
    for name in ("pat", "res"):
        api.cookies.clear()
        api.post("/login", data={"username": name, "password": f"password-{name}", "next": "/"},
                 follow_redirects=False)
        resp = api.post("/screening", data={"library": ""}, follow_redirects=False,
                        files={"upload": ("demo.csv", b"smiles,id\nC,evil\n", "text/csv")})
        assert resp.status_code == (403 if name == "pat" else 303), resp.text[:300]
    assert library.read_text() == "smiles,id\nCCO,ethanol\n"
    uploaded = list((tl_env.data_dir / "uploads" / "res").glob("*/demo.csv"))
    assert len(uploaded) == 1 and "evil" in uploaded[0].read_text()
