"""``/v1/admet`` on the full app: inline predictions, the job path, models, explanations."""

from __future__ import annotations

import pandas as pd
import pytest


def test_predict_inline_panel(api) -> None:
    pytest.importorskip("admet_ai")
    h = api.login("res")
    r = api.post("/v1/admet/predict", json={"smiles": ["CCO", "nonsense(", "c1ccccc1O"]}, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == 3 and body["scored"] == 2
    assert body["rows"][1]["error"] and body["rows"][1]["AMES"] is None
    assert 0 <= body["rows"][2]["AMES"] <= 1
    assert body["rows"][0]["molecular_weight"] == pytest.approx(46.069, abs=1e-3)


def test_inline_rows_carry_rdkit_warnings_and_nothing_is_printed(api, capfd) -> None:
    """A molecule RDKit warns about (a bare proton in a salt) keeps the warning in its row; the
    server's console stays clean (the models parse the molecule again, inside the capture)."""
    h = api.login("res")
    capfd.readouterr()
    r = api.post("/v1/admet/predict", json={"smiles": ["CC[NH3+].[H+]", "CCO"]}, headers=h)
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert "hydrogen atom without neighbors" in rows[0]["warnings"] and rows[1]["warnings"] == ""
    assert [row["row"] for row in rows] == [1, 2] and not rows[0]["error"]
    assert "WARNING" not in capfd.readouterr().err


def test_auth_and_validation(api) -> None:
    assert api.post("/v1/admet/predict", json={"smiles": ["CCO"]}).status_code == 401
    h = api.login("res")
    assert api.post("/v1/admet/predict", json={"smiles": []}, headers=h).status_code == 422
    r = api.post("/v1/admet/predict", json={"smiles": ["CCO"], "model": "no-such-model"}, headers=h)
    assert r.status_code == 404 and "no registered model" in r.json()["message"]


def test_models_train_explain_and_job(api, shared_data, tmp_path) -> None:
    from theralab.discovery.admet.train import train
    from theralab.discovery.admet.user_models import TrainConfig

    frame = pd.read_csv(shared_data / "discovery" / "moleculenet" / "delaney.csv").sample(120, random_state=0)
    train(frame, TrainConfig(targets=["logp"], kind="lgbm", split="random", members=1), tmp_path / "sol",
          name="sol-api")
    h = api.login("res")
    names = [m["name"] for m in api.get("/v1/admet/models", headers=h).json()]
    assert names[0] == "panel" and "sol-api" in names
    r = api.post("/v1/admet/explain", json={"smiles": "CCO", "model": "sol-api"}, headers=h)
    assert r.status_code == 200, r.text
    assert len(r.json()["atom_weights"]) == 3 and r.json()["svg"].lstrip().startswith("<svg")
    smiles = frame["smiles"].tolist() * 9  # 1,080 > 1,000: becomes a job
    r = api.post("/v1/admet/predict", json={"smiles": smiles, "model": "sol-api"}, headers=h)
    assert r.status_code == 202, r.text
    job = r.json()["job"]
    assert job["kind"] == "admet.predict" and job["params"]["model"] == "sol-api"
    # run the same kind chunk by chunk in this process (the API's background run needs worker
    # processes to know the kind: theralab.runtime.jobs.KINDS must list "admet.predict")
    import json
    from pathlib import Path

    from theralab.runtime import jobs

    workdir = tmp_path / "job"
    (workdir / "chunks").mkdir(parents=True)
    assert "/" not in job["params"]["input"]  # the public view shows a file name, never a server path
    server_params = jobs.get_job(job["id"])["params"]  # what the server itself runs
    params = {**server_params, "chunk_size": 500, "output": str(tmp_path / "job.parquet")}
    kind = jobs.load_kind("admet.predict")
    plan = kind.plan(params, workdir)
    assert [p["rows"] for p in plan] == [500, 500, 80]
    for index, spec in enumerate(plan):
        jobs.execute_chunk("admet.predict", params, index, spec, str(workdir))
    stats = [json.loads((workdir / "chunks" / f"{i:06d}.done.json").read_text()) for i in range(len(plan))]
    result = pd.read_parquet(Path(kind.finalize(params, workdir, stats)))
    assert len(result) == 1080 and result["logp"].notna().all() and result["row"].tolist() == list(range(1, 1081))


def test_web_page_table_percentiles_heatmap_and_csv(api) -> None:
    pytest.importorskip("admet_ai")
    r = api.post("/login", data={"username": "res", "password": "password-res", "next": "/admet"},
                 follow_redirects=False)
    assert r.status_code == 303
    assert "ADMET prediction" in api.get("/admet").text
    page = api.post("/admet", data={"text": "CC(=O)Oc1ccccc1C(=O)O aspirin\nC1CC( broken", "model": "panel"})
    assert page.status_code == 200, page.text
    html = page.text
    assert 'id="admet-table"' in html and 'data-col="hERG"' in html and 'id="thresholds"' in html
    assert "aspirin" in html and "malformed SMILES" in html
    assert 'data-chart="admet-percentiles"' in html  # the DrugBank-percentile chart (was a radar)
    # an atom heatmap (with its colour scale) for the valid row only
    assert html.count('<figure class="heatmap">') == 1 and html.count("<linearGradient") == 1
    assert 'download="admet.csv"' in html and "data:text/csv;base64," in html
    empty = api.post("/admet", data={"text": "  ", "model": "panel"})
    assert empty.status_code == 422 and "no molecules given" in empty.text
