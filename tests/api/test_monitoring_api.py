"""``/v1/monitoring``: NEWS2 and ECG analysis over HTTP (any logged-in user)."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

import theralab.privacy.deps as deps


@pytest.fixture(scope="module")
def client():
    from theralab.app import create_app

    app = create_app(with_web=False)
    app.dependency_overrides[deps.get_current_user] = lambda: deps.Principal("t", frozenset({"clinician"}))
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def anonymous():
    from theralab.app import create_app

    with TestClient(create_app(with_web=False)) as c:
        yield c


VITALS = {
    "respiration_rate": 26,
    "spo2": 91,
    "on_oxygen": True,
    "systolic_bp": 88,
    "pulse": 125,
    "consciousness": "V",
    "temperature": 39.4,
}


def test_news2_high_band_with_fhir(client):
    r = client.post("/v1/monitoring/ews/news2", json=VITALS)
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["total"] == 18 and d["band"] == "high"
    assert d["parameters"] == {
        "respiration_rate": 3,
        "spo2": 3,
        "air_or_oxygen": 2,
        "systolic_bp": 3,
        "pulse": 2,
        "consciousness": 3,
        "temperature": 2,
    }
    assert d["fhir"]["code"]["coding"][0]["code"] == "1104051000000101" and d["fhir"]["valueInteger"] == 18


def test_news2_rejects_impossible_values_with_where(client):
    r = client.post("/v1/monitoring/ews/news2", json={**VITALS, "pulse": 400})
    assert r.status_code == 422
    assert r.json()["where"] == "body.pulse"
    r = client.post("/v1/monitoring/ews/news2", json={**VITALS, "spo2": 120})
    assert r.status_code == 422 and r.json()["where"] == "body.spo2"


def test_login_required(anonymous):
    r = anonymous.post("/v1/monitoring/ews/news2", json=VITALS)
    assert r.status_code == 401


def _excerpt(shared_data, seconds=30):
    import wfdb

    # MIT-BIH 103: the first 30 s are 34 normal beats (sinus rhythm, no ectopy)
    rec = wfdb.rdrecord(str(shared_data / "monitoring" / "mitdb" / "103"), channels=[0], sampto=seconds * 360)
    return rec.p_signal[:, 0]


def test_ecg_analyze_json(client, shared_data):
    x = _excerpt(shared_data)
    r = client.post("/v1/monitoring/ecg/analyze", json={"fs": 360, "samples": x.round(4).tolist()})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["n_beats"] == 34 and d["rhythm"]["majority"] == "N"
    assert d["quality"]["usable_fraction"] == 1.0


def test_ecg_analyze_csv_upload(client, shared_data):
    x = _excerpt(shared_data, 20)
    body = "ecg\n" + "\n".join(f"{v:.4f}" for v in x)
    r = client.post(
        "/v1/monitoring/ecg/analyze?peaks=false",
        files={"file": ("ecg.csv", body, "text/csv")},
        data={"fs": "360", "rhythm": "false"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["r_peaks"] is None and r.json()["rhythm"]["windows"] == []
    assert 21 <= r.json()["n_beats"] <= 23


def test_ecg_analyze_bad_input(client):
    r = client.post("/v1/monitoring/ecg/analyze", json={"fs": 360, "samples": [0.1] * 100})
    assert r.status_code == 422 and r.json()["where"] == "ecg"  # under 2 s
    r = client.post("/v1/monitoring/ecg/analyze", json={"fs": -1, "samples": [0.1] * 1000})
    assert r.status_code == 422 and r.json()["where"] == "body.fs"
    r = client.post("/v1/monitoring/ecg/analyze", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["where"] == "body"
    r = client.post("/v1/monitoring/ecg/analyze", json={"fs": 360, "samples": np.zeros(3600).tolist()})
    assert r.status_code == 200 and r.json()["quality"]["usable_fraction"] == 0.0
