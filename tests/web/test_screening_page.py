"""The screening page: the library selector defaults to a real library, a run from the form works
the first time, and a finished run has its own page with navigation, query actives marked and a
"why it passed" column that wraps (issue 22)."""

from __future__ import annotations

import re
import time

from .helpers import login


def _wait(api, job_id: str, headers: dict) -> str:
    deadline = time.time() + 120
    while time.time() < deadline:
        status = api.get(f"/v1/jobs/{job_id}", headers=headers).json()["status"]
        if status in ("succeeded", "failed"):
            return status
        time.sleep(0.5)
    return status


def test_screening_form_runs_a_job_and_shows_the_report(api, tl_env):
    from theralab.demo import write_demo_library

    write_demo_library(tl_env.data_dir / "libraries" / "demo.csv")
    login(api, "res")
    page = api.get("/screening").text
    assert "demo.csv" in page and 'type="range"' in page
    assert re.search(r'<option value="demo.csv" selected>', page)  # a real library, never "-"
    assert "oninput" not in page and "<script>" not in page  # behaviour lives in static/pages/screening.js
    missing = api.post("/screening", data={"library": ""})
    assert missing.status_code == 422 and "choose a library" in missing.text
    response = api.post("/screening", data={"library": "demo.csv", "actives": "CC(=O)Nc1ccc(O)cc1\n", "top_n": "5"},
                        follow_redirects=False)
    assert response.status_code == 303
    job_url = response.headers["location"]
    job_id = job_url.rsplit("/", 1)[-1]
    headers = api.login("res")
    status = _wait(api, job_id, headers)
    assert status == "succeeded", api.get(f"/v1/jobs/{job_id}", headers=headers).json()
    assert "View report" in api.get(job_url).text
    report = api.get(f"{job_url}/report").text
    assert report.count("<svg") == 5 and "similarity" in report
    assert 'href="/screening"' in report  # the standalone report has a way back
    run = api.get(f"/screening/runs/{job_id}")
    assert run.status_code == 200 and run.text.count('<div class="structure">') == 5
    other = api.login("doc")
    assert api.get(f"/v1/jobs/{job_id}", headers=other).status_code == 403
    login(api, "doc")
    assert api.get(f"/screening/runs/{job_id}").status_code == 403


def test_demo_run_page_marks_query_actives_and_navigates_back(api, tl_env):
    """Findings: selector defaulting to "-", first run failing with 422, report pages without navigation."""
    from theralab.demo import science as demo_science

    demo_science.load(owner="res")
    login(api, "res")
    page = api.get("/screening").text
    assert re.search(r'<option value="demo-screening" selected>', page)
    run_id = re.search(r'href="/screening/runs/([0-9a-f-]{36})"', page).group(1)
    # the form as a first-time user sends it: nothing changed, so the default library
    first = api.post("/screening", data={"library": "demo-screening"}, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"].startswith("/jobs/")
    run = api.get(f"/screening/runs/{run_id}").text
    assert 'href="/screening"' in run and f'href="/jobs/{run_id}"' in run and 'aria-label="Breadcrumb"' in run
    assert 'class="query-active"' in run and "query active" in run  # imatinib is a query active and a hit
    assert '<td class="why"><ul>' in run  # reasons as a wrapping list, not one long line
    assert '<div class="table-wrap">' in run and 'data-page-size="25"' in run
    sizes = set(re.findall(r'<div class="structure"><svg[^>]*?width=.(\d+)px.[^>]*?height=.(\d+)px', run))
    assert sizes == {("160", "120")}  # every structure drawn the same size
    csv = api.get(f"/screening/runs/{run_id}?download=hits.csv")
    assert csv.status_code == 200 and csv.text.startswith("id,")
    assert api.get("/screening/runs/not-a-job").status_code == 404


def test_the_demo_run_is_a_shared_example_every_staff_user_can_open(api, tl_env):
    from theralab.demo import science as demo_science
    from theralab.runtime.jobs import SHARED_OWNER, list_jobs

    demo_science.load()
    (job,) = [j for j in list_jobs(owner=SHARED_OWNER) if j["kind"] == "screen.run"]
    login(api, "doc")
    page = api.get("/screening").text
    assert f'href="/screening/runs/{job["id"]}"' in page and "example" in page
    assert 'id="run-button" disabled' in page  # a clinician may open runs but not start one (privacy.confine)
    run = api.get(f"/screening/runs/{job['id']}")
    assert run.status_code == 200 and "shared with every user" in run.text
    assert f'href="/jobs/{job["id"]}"' not in run.text  # not the user's job: no job controls offered
    assert api.get(f"/screening/runs/{job['id']}/report").status_code == 200
    assert api.post(f"/v1/jobs/{job['id']}/cancel", headers=api.login("doc")).status_code in (403, 404, 405)
