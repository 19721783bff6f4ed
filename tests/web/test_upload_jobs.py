"""Uploading a molecule file on the chemistry or ADMET page starts an owned, audited job."""

from __future__ import annotations

import pytest

from .helpers import login


@pytest.mark.parametrize(
    ("page", "form", "kind", "suffix", "extra"),
    [
        ("/chem", {"standardize": "true"}, "chem.profile", ".profile.csv", {"standardize": True}),
        ("/admet", {"model": "panel"}, "admet.predict", ".admet.csv", {"model": "panel"}),
    ],
)
def test_upload_runs_as_a_job(api, monkeypatch, page, form, kind, suffix, extra):
    from sqlalchemy import select

    from theralab.privacy.tables import AuditEvent
    from theralab.runtime import jobs
    from theralab.runtime.db import session_scope

    started = []
    monkeypatch.setattr(jobs, "start_in_background", started.append)  # record the launch; do not run it here
    login(api, "res")
    resp = api.post(page, data=form, files={"upload": ("mols.smi", b"CCO ethanol\nc1ccccc1 benzene\n", "text/plain")},
                    follow_redirects=False)
    assert resp.status_code == 303
    job_id = resp.headers["location"].rsplit("/", 1)[-1]
    assert started == [job_id]
    job = jobs.get_job(job_id)
    assert job["kind"] == kind and job["owner"] == "res"
    params = job["params"]
    assert params["input"].endswith("mols.smi") and params["output"].endswith("mols" + suffix)
    assert {k: params[k] for k in extra} == extra
    with session_scope() as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.resource_id == job_id)).all()
    assert actions == [f"{kind}.upload"]
