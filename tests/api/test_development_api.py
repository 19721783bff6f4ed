"""``/v1/development`` routes through FastAPI's TestClient, with an authenticated researcher."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import theralab.privacy.deps as deps


@pytest.fixture(scope="module")
def client() -> TestClient:
    try:
        from theralab.app import create_app

        app = create_app(with_web=False)
    except ImportError:  # foundation not importable yet: mount only this router
        from theralab.api.routes.development import router

        app = FastAPI()
        app.include_router(router, prefix="/v1")
    app.dependency_overrides[deps.get_current_user] = lambda: deps.Principal("t", frozenset({"researcher"}))
    return TestClient(app)


def test_simulate_analytic_check(client: TestClient) -> None:
    body = {
        "params": {"cl": 5, "v1": 50, "ka": 1},
        "doses": [{"amount": 500, "route": "oral"}],
        "times": [2.5584278811],
    }
    r = client.post("/v1/development/pk/simulate", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["conc"][0] == pytest.approx(7.7426, abs=5e-5)


def test_simulate_regimen_steady_state_and_patient(client: TestClient) -> None:
    body = {
        "params": {"cl": 5, "v1": 50},
        "regimen": {"amount": 100, "interval": 12, "n_doses": 10},
        "patient": {"cl_multiplier": 0.5},
        "steady_state": True,
    }
    r = client.post("/v1/development/pk/simulate", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["individual_params"]["cl"] == pytest.approx(2.5)
    assert out["steady_state"]["cavg_ss"] == pytest.approx(100 / (2.5 * 12))


def test_fit_and_nca(client: TestClient, reference_data: Path) -> None:
    d = pd.read_csv(reference_data / "development" / "pk" / "theoph_subject1.csv")
    r = client.post(
        "/v1/development/pk/fit", json={"time": d.Time.tolist(), "conc": d.conc.tolist(), "dose": 4.02}
    )
    assert r.status_code == 200, r.text
    assert r.json()["params"]["cl"] == pytest.approx(0.01992, abs=5e-6)
    r = client.post(
        "/v1/development/pk/nca",
        json={"time": d.Time.tolist(), "conc": d.conc.tolist(), "dose": 4.02, "lambda_z_points": 3},
    )
    assert r.status_code == 200, r.text
    assert r.json()["auc_last"] == pytest.approx(148.92, abs=5e-3)


def test_bad_input_is_4xx_with_where(client: TestClient) -> None:
    r = client.post("/v1/development/pk/nca", json={"time": [0, 2, 1], "conc": [1, 2, 3]})
    assert r.status_code == 422 and r.json()["where"] == "time[2]"
    r = client.post(
        "/v1/development/pk/simulate", json={"params": {"cl": 5, "v1": 50}, "doses": [{"amount": 0}]}
    )
    assert r.status_code == 422 and "dose" in r.json()["message"]
    r = client.post(
        "/v1/development/dissolution/compare",
        json={"time": [10, 20, 30], "reference": [[1, 2, 3]] * 12, "test": [[1, 2]] * 12},
    )
    assert r.status_code == 422


def test_dissolution_routes(client: TestClient, reference_data: Path) -> None:
    d = reference_data / "development" / "dissolution"
    ref = pd.read_csv(d / "shah1998_ref.csv").set_index("time")
    test = pd.read_csv(d / "shah1998_test3.csv").set_index("time")
    body = {
        "time": ref.index.tolist(),
        "reference": ref.T.values.tolist(),
        "test": test.T.values.tolist(),
        "bootstrap": "always",
        "n_boot": 500,
    }
    r = client.post("/v1/development/dissolution/compare", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["f2"] == pytest.approx(51.19, abs=5e-3) and r.json()["bootstrap"]["bca"][0] < 51.19
    r = client.post(
        "/v1/development/dissolution/fit",
        json={"time": ref.index.tolist(), "release": ref.mean(axis=1).tolist()},
    )
    assert r.status_code == 200, r.text
    models = r.json()["models"]
    assert {m["model"] for m in models} >= {"weibull", "higuchi"}


def test_ddi_and_regimen(client: TestClient) -> None:
    r = client.post("/v1/development/ddi/check", json={"drugs": ["rifampicin", "midazolam"]})
    assert r.status_code == 200 and r.json()["flagged"][0]["direction"] == "decrease"
    r = client.post(
        "/v1/development/pk/regimen", json={"params": {"cl": 5, "v1": 50, "ka": 1}, "low": 5, "high": 10}
    )
    assert r.status_code == 200 and r.json()["candidates"][0]["in_window"] is True


def test_requires_login() -> None:
    from theralab.app import create_app

    r = TestClient(create_app(with_web=False)).post("/v1/development/ddi/check", json={"drugs": ["a", "b"]})
    assert r.status_code == 401 and r.json()["error"] == "AuthError"


def test_population_route(client: TestClient) -> None:
    body = {
        "params": {"cl": 5, "v1": 50, "ka": 1},
        "regimen": {"amount": 500, "route": "oral"},
        "times": [1, 2, 4],
        "omega": {"cl": 0.09},
        "n_subjects": 200,
        "seed": 2,
        "covariates": None,
    }
    r = client.post("/v1/development/pk/population", json=body)
    assert r.status_code == 200, r.text
    bands = r.json()["bands"]
    assert bands["time"] == [1, 2, 4] and all(a < b for a, b in zip(bands["p5"], bands["p95"], strict=True))
    assert len(r.json()["subjects"]) == 200
    body |= {"covariates": [{"weight_kg": 70}, {"weight_kg": 140, "cl_multiplier": 0.5}], "omega": {}}
    subj = client.post("/v1/development/pk/population", json=body).json()["subjects"]
    assert [s["cl"] for s in subj] == pytest.approx([5.0, 5.0 * 0.5 * 2**0.75])


def test_fit_named_model(client: TestClient) -> None:
    from theralab.development.pk import Dose, PKParams, concentrations

    t = [0.25, 0.5, 1, 2, 4, 6, 8, 12, 24, 36]
    c = concentrations(t, [Dose(0, 100)], PKParams(cl=3, v1=10, q2=6, v2=30)).tolist()
    r = client.post("/v1/development/pk/fit", json={"time": t, "conc": c, "dose": 100, "model": "2cmt-iv"})
    assert r.status_code == 200, r.text
    assert r.json()["params"]["v2"] == pytest.approx(30, rel=1e-6)
    r = client.post("/v1/development/pk/fit", json={"time": t, "conc": c, "dose": 100, "model": "nope"})
    assert r.status_code == 422 and r.json()["where"] == "model"


def test_nca_steady_state_tau(client: TestClient) -> None:
    import numpy as np

    t = [0, 1, 2, 4, 6, 8, 12]
    c = (10 * np.exp(-0.2 * np.array(t)) / (1 - np.exp(-2.4))).tolist()
    body = {"time": t, "conc": c, "dose": 100, "auc_method": "linear-up/log-down", "route": "iv_bolus", "tau": 12}
    r = client.post("/v1/development/pk/nca", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["auc_tau"] == pytest.approx(50.0, rel=1e-12)
