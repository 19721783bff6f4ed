"""``/v1/trials``: calculators return the reference values; bad input is 422 naming the field."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from theralab.app import create_app
from theralab.privacy.deps import Principal, get_current_user


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = create_app(with_web=False)
    app.dependency_overrides[get_current_user] = lambda: Principal("t", frozenset({"researcher"}))
    return TestClient(app, raise_server_exceptions=False)


def test_login_required() -> None:
    anon = TestClient(create_app(with_web=False), raise_server_exceptions=False)
    r = anon.post("/v1/trials/design/sample-size", json={"endpoint": "means", "delta": 0.5})
    assert r.status_code == 401


def test_sample_size_means_and_survival(client: TestClient) -> None:
    r = client.post("/v1/trials/design/sample-size", json={"endpoint": "means", "delta": 0.5, "sd": 1})
    assert r.status_code == 200, r.text
    assert r.json()["n1"] == pytest.approx(63.76576371, abs=1e-5) and r.json()["n1_ceil"] == 64
    r = client.post(
        "/v1/trials/design/sample-size",
        json={"endpoint": "survival", "hr": 0.7, "median_control": 12, "accrual_time": 24, "follow_up": 12},
    )
    assert r.status_code == 200, r.text
    assert r.json()["details"]["events"] == pytest.approx(246.787105, abs=1e-5)


@pytest.mark.parametrize("power", [0, 1, 1.2, -0.5])
def test_power_outside_unit_interval_is_422(client: TestClient, power: float) -> None:
    r = client.post("/v1/trials/design/sample-size", json={"endpoint": "means", "delta": 0.5, "power": power})
    assert r.status_code == 422
    assert r.json()["where"] == "body.power"


def test_missing_field_for_endpoint(client: TestClient) -> None:
    r = client.post("/v1/trials/design/sample-size", json={"endpoint": "proportions", "p1": 0.5})
    assert r.status_code == 422 and r.json()["where"] == "body.p2"


def test_group_sequential(client: TestClient) -> None:
    r = client.post("/v1/trials/design/group-sequential", json={"k": 3, "kind": "ld-of", "fixed_n_total": 127.5315274})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["efficacy_z"] == pytest.approx([3.710303, 2.511427, 1.993047], abs=1e-5)
    assert body["max_n_total"] == pytest.approx(129.163311, rel=1e-6)
    assert len(body["table"]) == 3
    r = client.post(
        "/v1/trials/design/group-sequential", json={"k": 3, "kind": "user", "user_alpha_spent": [0.01, 0.02, 0.03]}
    )
    assert r.status_code == 422 and r.json()["where"] == "user_alpha_spent"


def test_meta_2x2_bcg(client: TestClient, reference_data) -> None:
    df = pd.read_csv(reference_data / "trials/dat_bcg.csv")
    body = {
        "measure": "RR",
        "method": "DL",
        "ai": df.tpos.tolist(),
        "bi": df.tneg.tolist(),
        "ci": df.cpos.tolist(),
        "di": df.cneg.tolist(),
        "labels": df.author.tolist(),
    }
    r = client.post("/v1/trials/meta", json=body)
    assert r.status_code == 200, r.text
    res = r.json()["result"]
    assert res["beta"][0] == pytest.approx(-0.714117, abs=1e-5) and res["tau2"] == pytest.approx(0.30876, abs=1e-5)
    assert res["i2"] == pytest.approx(92.1173, abs=1e-4)
    assert r.json()["forest"]["data"][0]["type"] == "scatter"
    assert math.exp(res["pi"][0]) == pytest.approx(0.1560, abs=5e-5)


def test_meta_bad_input(client: TestClient) -> None:
    r = client.post("/v1/trials/meta", json={"yi": [0.1], "vi": [0.01]})
    assert r.status_code == 422 and "at least 2" in r.json()["message"]
    r = client.post("/v1/trials/meta", json={"yi": [0.1, 0.2], "vi": [0.01, -0.01]})
    assert r.status_code == 422 and r.json()["where"] == "vi[1]"
    r = client.post("/v1/trials/meta", json={"measure": "OR", "yi": [0.1, 0.2], "vi": [0.01, 0.01]})
    assert r.status_code == 422
    r = client.post(
        "/v1/trials/meta",
        json={
            "measure": "OR",
            "ai": [0, 4],
            "bi": [10, 8],
            "ci": [2, 3],
            "di": [9, 9],
            "labels": ["zero", "ok"],
            "plots": False,
        },
    )
    assert r.status_code == 200 and r.json()["continuity_correction"]["studies"] == ["zero"]


def test_disproportionality(client: TestClient) -> None:
    r = client.post(
        "/v1/trials/safety/disproportionality",
        json={
            "tables": [
                {"drug": "X", "event": "Y", "a": 20, "b": 380, "c": 80, "d": 9520},
                {"a": 1, "b": 0, "c": 5, "d": 100},
            ]
        },
    )
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert rows[0]["chi2_yates"] == pytest.approx(63.197075, abs=1e-5)
    assert rows[0]["IC"] == pytest.approx(2.187627, abs=1e-5) and rows[0]["evans_signal"] is True
    assert rows[1]["cc_applied"] is True
    r = client.post("/v1/trials/safety/disproportionality", json={"tables": [{"a": -1, "b": 0, "c": 5, "d": 1}]})
    assert r.status_code == 422 and r.json()["where"] == "body.tables.0.a"


def test_group_sequential_beta_spending(client: TestClient) -> None:
    r = client.post(
        "/v1/trials/design/group-sequential",
        json={
            "k": 3,
            "kind": "ld-of",
            "alpha": 0.025,
            "sided": 1,
            "beta_spending": "kd",
            "beta_gamma": 1.3,
            "futility_stops": [True, False],
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["futility_z"][1] is None  # -inf (no futility stop) is sent as null
    assert body["inflation_factor"] == pytest.approx(1.0586, abs=5e-5)


def test_meta_api_takes_every_layout_the_cli_takes(client: TestClient, reference_data) -> None:
    """The API, the CLI and the web page share theralab.trials.meta.analyse_table."""
    from theralab.trials.meta import analyse_table

    df = pd.read_csv(reference_data / "trials/dat_bcg.csv")
    mh = client.post("/v1/trials/meta", json={"measure": "RR", "method": "MH", "ai": df.tpos.tolist(),
                                             "bi": df.tneg.tolist(), "ci": df.cpos.tolist(), "di": df.cneg.tolist()})
    assert mh.status_code == 200, mh.text
    assert mh.json()["result"]["estimate"] == pytest.approx(analyse_table(df, "RR", "MH").result.estimate, abs=1e-12)
    means = {"measure": "SMD", "method": "REML", "m1": [5.0, 6, 5.5], "sd1": [1.0, 1.2, 0.9], "n1": [30, 40, 35],
             "m2": [4.0, 5.1, 5.0], "sd2": [1.1, 1.0, 1.0], "n2": [30, 38, 33]}
    r = client.post("/v1/trials/meta", json=means)
    assert r.status_code == 200, r.text
    ragged = client.post("/v1/trials/meta", json={"measure": "GEN", "yi": [0.1, 0.2], "vi": [0.1]})
    assert ragged.status_code == 422
