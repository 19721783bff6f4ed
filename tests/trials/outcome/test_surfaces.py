"""``theralab trials outcome``, ``/v1/trials/outcome`` and the web page, on tiny real models."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from theralab.cli.trials.outcome import app

from .conftest import BAD_TEXT, PACLITAXEL, make_trials

DRAFT = {"nct_id": "draft-1", "phase": "phase 2", "icd_codes": ["C50.911"],
         "drugs": [{"name": "paclitaxel", "smiles": PACLITAXEL}], "criteria": BAD_TEXT[0]}


def test_cli_train_predict_explain(tmp_path):
    data = tmp_path / "trials.json"
    data.write_text(json.dumps([t.model_dump() for t in make_trials(120)]))
    runner = CliRunner()
    res = runner.invoke(app, ["train", str(data), "--out", str(tmp_path / "m"), "--no-neural", "--folds", "3"])
    assert res.exit_code == 0, res.output
    assert "gbm: out-of-fold ROC-AUC" in res.stdout and (tmp_path / "m" / "model.json").exists()
    res = runner.invoke(app, ["predict", str(tmp_path / "m"), str(data), "--out", str(tmp_path / "p.csv"),
                              "--drivers", "2"])
    assert res.exit_code == 0, res.output
    assert "on 120 labelled trials: ROC-AUC" in res.stdout
    import pandas as pd

    pred = pd.read_csv(tmp_path / "p.csv")
    assert len(pred) == 120 and {"prob", "predicted", "lowering_1"} <= set(pred.columns)
    draft = tmp_path / "draft.json"
    draft.write_text(json.dumps(DRAFT))
    res = runner.invoke(app, ["explain", str(tmp_path / "m"), str(draft), "--edit",
                              '{"op": "drop_criterion", "criterion_id": "exc-2"}', "--json", str(tmp_path / "x.json")])
    assert res.exit_code == 0, res.output
    out = json.loads((tmp_path / "x.json").read_text())
    assert out["whatifs"][0]["edit"]["criterion_id"] == "exc-2" and "what-if edits" in res.stdout
    draft.write_text(json.dumps({**DRAFT, "enrolment": 10}))
    res = runner.invoke(app, ["explain", str(tmp_path / "m"), str(draft)])
    assert res.exit_code == 2 and "enrolment" in res.output


def _register(tiny_model):
    from theralab.models.registry import user_models_root

    return tiny_model.save(user_models_root() / "tiny-outcome" / "1")


def test_api_predict_and_explain(api, tiny_model):
    _register(tiny_model)
    h = api.login("res")
    listed = api.get("/v1/trials/outcome/models", headers=h)
    assert listed.status_code == 200 and [m["name"] for m in listed.json()] == ["tiny-outcome"]
    r = api.post("/v1/trials/outcome/predict", headers=h, json={"model": "tiny-outcome", "protocols": [DRAFT]})
    assert r.status_code == 200, r.text
    assert 0 <= r.json()["predictions"][0]["probability"] < 0.5
    r = api.post("/v1/trials/outcome/explain", headers=h, json={"model": "tiny-outcome", "protocol": DRAFT,
                                                                "similar": 2})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["similar"]) == 2 and body["drivers"]["lowering"] and body["whatifs"]
    # bad input: 4xx with a message, never 500
    bad = api.post("/v1/trials/outcome/explain", headers=h,
                   json={"model": "tiny-outcome", "protocol": {**DRAFT, "enrolment": 5}})
    assert bad.status_code == 422 and "enrolment" in bad.text
    path = api.post("/v1/trials/outcome/predict", headers=h, json={"model": "/etc/passwd", "protocols": [DRAFT]})
    assert path.status_code == 422 and "not a path" in path.text
    unknown = api.post("/v1/trials/outcome/predict", headers=h, json={"model": "nope", "protocols": [DRAFT]})
    assert unknown.status_code == 404
    edit = api.post("/v1/trials/outcome/explain", headers=h, json={"model": "tiny-outcome", "protocol": DRAFT,
                                                                   "edits": [{"op": "drop_criterion",
                                                                              "criterion_id": "exc-99"}]})
    assert edit.status_code == 422 and "exc-99" in edit.text
    assert api.post("/v1/trials/outcome/predict", headers=api.login("pat"),
                    json={"model": "tiny-outcome", "protocols": [DRAFT]}).status_code == 403


def test_web_page(api, tiny_model):
    _register(tiny_model)
    api.cookies.clear()
    api.post("/login", data={"username": "res", "password": "password-res", "next": "/"}, follow_redirects=False)
    page = api.get("/trials/outcome")
    assert page.status_code == 200 and "tiny-outcome" in page.text and "draft-001" in page.text
    res = api.post("/trials/outcome", data={"model": "tiny-outcome", "protocol": json.dumps(DRAFT)})
    assert res.status_code == 200, res.text
    assert 'id="outcome-result"' in res.text and "What-if edits" in res.text
    assert 'data-chart="drivers-chart"' in res.text and 'data-chart="whatif-chart"' in res.text  # house chart specs
    assert "Contribution to the log-odds of success" in res.text and "percentage points" in res.text  # axis units
    bad = api.post("/trials/outcome", data={"model": "tiny-outcome", "protocol": "{not json"})
    assert bad.status_code == 422 and "not JSON" in bad.text
