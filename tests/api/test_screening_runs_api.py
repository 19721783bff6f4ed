"""``POST /v1/screening/runs`` and the screening form with ADMET panel filters."""

from __future__ import annotations

import io
import time

import pandas as pd
import pytest

LIB = ["CC(=O)Nc1ccc(O)cc1 paracetamol", "CC(=O)Oc1ccccc1C(=O)O aspirin", "O=C(O)c1ccccc1O salicylic",
       "CC(C)Cc1ccc(cc1)C(C)C(=O)O ibuprofen", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C caffeine",
       "CC(=O)Nc1ccc(OCC)cc1 phenacetin", "CN1CCC(CC1)Oc1ccc(cc1)C(=O)Nc1ccccc1Cl herg-like",
       "c1ccc2c(c1)ccc1ccccc12 phenanthrene", "OCC(O)CO glycerol", "CCN(CC)CCOC(=O)c1ccc(N)cc1 procaine"]


def _wait(api, job_id, headers, limit=240):
    deadline = time.time() + limit
    while time.time() < deadline:
        job = api.get(f"/v1/jobs/{job_id}", headers=headers).json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish: {job}")


@pytest.mark.parametrize(("body", "where"), [
    ({"smiles": ["CCO"], "filters": {"require": ["hERG <= 0.3"]}}, "filters"),
    ({"smiles": ["CCO"], "filters": {"require": ["hERG is low"]}}, "filters.require"),
    ({"smiles": ["CCO"], "similarity": {"actives": ["/etc/hostname"]}}, "similarity.actives.0"),
    ({"smiles": ["CCO"], "models": [{"name": "/tmp/model"}]}, "models.0.name"),
    ({"smiles": ["CCO"], "filters": {"rulez": []}}, "filters.rulez"),
])
def test_bad_runs_are_422_before_any_job(api, body, where):
    h = api.login("res")
    r = api.post("/v1/screening/runs", json=body, headers=h)
    assert r.status_code == 422, r.text
    assert where in (r.json().get("where") or str(r.json())), r.json()
    assert api.get("/v1/jobs", headers=h).json() == []
    missing = api.post("/v1/screening/runs", json={"library": "nope"}, headers=h)
    assert missing.status_code == 404


def test_api_run_with_panel_filters(api, tl_env, monkeypatch):
    pytest.importorskip("admet_ai")
    monkeypatch.setenv("THERALAB_WORKERS", "1")
    from theralab.settings import reset_settings

    reset_settings()
    h = api.login("res")
    body = {"smiles": LIB, "chunk_size": 10, "models": [{"name": "panel"}],
            "filters": {"require": ["hERG <= 0.5", "AMES < 0.5"], "ranges": {"Solubility_AqSolDB": [-5, 2]}},
            "objectives": [{"column": "hERG", "goal": "minimize", "low": 0, "high": 0.5}],
            "diversity": {"method": "none", "top_n": 5}}
    r = api.post("/v1/screening/runs", json=body, headers=h)
    assert r.status_code == 202, r.text
    job = _wait(api, r.json()["job_id"], h)
    assert job["status"] == "succeeded", job
    result = api.get(f"/v1/jobs/{job['id']}/result", headers=h)  # the owner downloads it; no server path shown
    assert result.status_code == 200, result.text[:300]
    hits = pd.read_csv(io.BytesIO(result.content))
    assert 0 < len(hits) <= 5 and (hits["hERG"] <= 0.5).all() and (hits["AMES"] < 0.5).all()
    assert "herg-like" not in set(hits["id"])  # the panel calls it a hERG blocker


def test_web_form_adds_panel_filters(api, tl_env):
    from theralab.demo import write_demo_library
    from theralab.runtime.jobs import cancel_job, get_job

    write_demo_library(tl_env.data_dir / "libraries" / "demo.csv")
    api.post("/login", data={"username": "res", "password": "password-res", "next": "/"}, follow_redirects=False)
    page = api.get("/screening").text
    assert 'name="herg_max"' in page and 'name="sol_min"' in page
    bad = api.post("/screening", data={"library": "demo.csv", "herg_max": "low"})
    assert bad.status_code == 422 and "herg_max must be a number" in bad.text
    r = api.post("/screening", data={"library": "demo.csv", "herg_max": "0.3", "ames_max": "0.5",
                                     "sol_min": "-6", "w_herg": "1"}, follow_redirects=False)
    assert r.status_code == 303
    job_id = r.headers["location"].rsplit("/", 1)[-1]
    params = get_job(job_id)["params"]
    cancel_job(job_id)
    assert [m["name"] for m in params["models"]] == ["panel"]
    assert params["filters"]["require"] == ["hERG <= 0.3", "AMES < 0.5"]
    assert params["filters"]["ranges"]["Solubility_AqSolDB"] == [-6.0, 10.0]
    assert any(o["column"] == "hERG" and o["goal"] == "minimize" for o in params["objectives"])
