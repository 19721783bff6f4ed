"""The screening page submits a real job from the form; the report opens from the job page."""

from __future__ import annotations

import time


def test_screening_form_runs_a_job_and_shows_the_report(api, tl_env):
    from theralab.demo import write_demo_library

    write_demo_library(tl_env.data_dir / "libraries" / "demo.csv")
    api.post("/login", data={"username": "res", "password": "password-res", "next": "/"}, follow_redirects=False)
    page = api.get("/screening").text
    assert "demo.csv" in page and 'type="range"' in page
    missing = api.post("/screening", data={"library": ""})
    assert missing.status_code == 422 and "choose a library" in missing.text
    response = api.post("/screening", data={"library": "demo.csv", "actives": "CC(=O)Nc1ccc(O)cc1\n", "top_n": "5"},
                        follow_redirects=False)
    assert response.status_code == 303
    job_url = response.headers["location"]
    job_id = job_url.rsplit("/", 1)[-1]
    headers = api.login("res")
    deadline = time.time() + 120
    while time.time() < deadline:
        status = api.get(f"/v1/jobs/{job_id}", headers=headers).json()["status"]
        if status in ("succeeded", "failed"):
            break
        time.sleep(0.5)
    assert status == "succeeded", api.get(f"/v1/jobs/{job_id}", headers=headers).json()
    assert "View report" in api.get(job_url).text
    report = api.get(f"{job_url}/report").text
    assert report.count("<svg") == 5 and "similarity" in report
    other = api.login("doc")
    assert api.get(f"/v1/jobs/{job_id}", headers=other).status_code == 403
