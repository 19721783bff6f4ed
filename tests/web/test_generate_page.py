"""The generate page: form -> run file with inline errors, a run started as a job, the live view."""

from __future__ import annotations

import time
import tomllib

from theralab.web.pages.generate import DEFAULTS, form_to_spec

from .helpers import login


def test_form_to_spec_gives_a_valid_run_file_and_field_errors():
    from theralab.discovery.generate import parse_run
    from theralab.discovery.generate.schemas import spec_to_toml

    spec, errors = form_to_spec(dict(DEFAULTS))
    assert errors == {}
    cfg = parse_run(tomllib.loads(spec_to_toml(spec)))  # the TOML the page shows reads back
    assert [c.name for c in cfg.scoring.components] == ["qed", "sa", "mw", "forbid_1"]
    assert cfg.run.optimizer == "ga" and cfg.run.budget == 300 and len(cfg.run.start_smiles) == 4
    bad = {**DEFAULTS, "budget": "5", "mw_low": "500", "mw_high": "300", "forbid_smarts": "[C",
           "start_smiles": "CCO\nnot-a-smiles", "use_sim": "on", "sim_smiles": ""}
    _, errors = form_to_spec(bad)
    assert set(errors) == {"budget", "mw_high", "forbid_smarts", "start_smiles", "sim_smiles"}
    assert "line 2" in errors["start_smiles"] and "between 10 and 20000" in errors["budget"]
    _, errors = form_to_spec({k: v for k, v in DEFAULTS.items() if not k.startswith("use_")} | {"forbid_smarts": ""})
    assert "at least one objective" in errors["form"]


def test_page_check_start_and_live_view(api, monkeypatch):
    monkeypatch.setenv("THERALAB_WORKERS", "1")
    login(api, "res")
    page = api.get("/generate")
    assert page.status_code == 200 and "generate.js" in page.text and "<script>" not in page.text
    assert 'id="generate-toml"' in page.text and "smiles-gru-prior" in page.text
    check = api.post("/generate/check", data={**DEFAULTS, "mw_high": "100"}).json()
    assert not check["ok"] and "mw_high" in check["errors"] and "[scoring]" in check["toml"]
    refused = api.post("/generate", data={**DEFAULTS, "budget": "abc"}, follow_redirects=False)
    assert refused.status_code == 422 and "enter a whole number" in refused.text
    form = {**DEFAULTS, "budget": "40", "start_smiles": "CCO\nc1ccccc1\nCCN(CC)CC\nCC(=O)Oc1ccccc1C(=O)O"}
    started = api.post("/generate", data=form, follow_redirects=False)
    assert started.status_code == 303, started.text[:500]
    job_id = started.headers["location"].rsplit("/", 1)[-1]
    deadline = time.time() + 90
    while time.time() < deadline:
        live = api.get(f"/generate/jobs/{job_id}/live.json").json()
        if live["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.5)
    assert live["status"] == "succeeded", live
    assert live["calls"] == 40 and "<svg" in live["table"] and live["curve"]["traces"][0]["x"]
    view = api.get(f"/generate/jobs/{job_id}")
    assert view.status_code == 200 and 'data-chart="generate-curve"' in view.text and "<svg" in view.text
    assert "Download results" in view.text
    login(api, "doc")  # a clinician may not use the page, nor read another user's run
    assert api.get("/generate", follow_redirects=False).status_code in (303, 403)
    assert api.get(f"/generate/jobs/{job_id}/live.json", follow_redirects=False).status_code in (303, 403)
