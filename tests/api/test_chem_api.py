"""``/v1/chem``: inline profiling, the inline limit, depiction, and no 500 for bad input."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from rdkit import Chem
from rdkit.Chem import Descriptors

from theralab.app import create_app
from theralab.privacy.deps import Principal, get_current_user


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = create_app(with_web=False)
    app.dependency_overrides[get_current_user] = lambda: Principal("t", frozenset({"researcher"}))
    return TestClient(app, raise_server_exceptions=False)


def test_profile_smiles_list(client: TestClient) -> None:
    r = client.post(
        "/v1/chem/profile", json={"smiles": ["CC(=O)Oc1ccccc1C(=O)O", "C1CC(", "O=C1C(=Cc2ccccc2)SC(=S)N1"]}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["count"], body["valid"], body["invalid_count"]) == (3, 2, 1)
    aspirin, rhodanine = body["rows"]
    assert aspirin["mw"] == Descriptors.MolWt(Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O"))
    assert aspirin["lipinski_pass"] is True and aspirin["inchikey"] == "BSYNRYMUTXBXSQ-UHFFFAOYSA-N"
    assert {"catalog": "PAINS_A", "description": "ene_rhod_A(235)"} in rhodanine["alerts"]
    assert body["invalid"] == [
        {"row": 2, "id": "2", "input": "C1CC(",
         "reason": "malformed SMILES (syntax error): C1CC( (RDKit: check for mistakes around position 5)"}
    ]


def test_profile_molecules_with_ids_and_svg(client: TestClient) -> None:
    r = client.post(
        "/v1/chem/profile",
        json={
            "molecules": [{"id": "salt", "smiles": "CC(=O)[O-].[Na+]"}, {"id": "bad", "smiles": ""}],
            "depict": True,
        },
    )
    assert r.status_code == 200, r.text
    row = r.json()["rows"][0]
    assert row["id"] == "salt" and row["smiles"] == "CC(=O)O"
    assert row["changes"] == ["removed fragment [Na+]", "neutralised (net charge -1 -> +0)"]
    assert row["svg"].startswith("<svg")
    assert r.json()["invalid"][0] == {"row": 2, "id": "bad", "input": "", "reason": "empty SMILES"}


def test_too_many_molecules_points_to_jobs(client: TestClient) -> None:
    r = client.post("/v1/chem/profile", json={"smiles": ["C"] * 1001})
    assert r.status_code == 413
    body = r.json()
    assert body["error"] == "PayloadTooLarge" and "1001 molecules" in body["message"]
    assert "chem.profile" in body["hint"] and "POST /v1/jobs" in body["hint"]


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"smiles": ["CCO"], "molecules": [{"smiles": "CCO"}]},
        {"smiles": []},
        {"smiles": "CCO"},
        {"smiles": ["CCO"], "unknown": 1},
        {"smiles": ["\x00\x01\x02garbage"]},
    ],
)
def test_bad_requests_are_4xx_not_500(client: TestClient, payload: dict) -> None:
    r = client.post("/v1/chem/profile", json=payload)
    if payload == {"smiles": ["\x00\x01\x02garbage"]}:
        assert r.status_code == 200 and r.json()["valid"] == 0  # a bad molecule is a result, not an error
    else:
        assert 400 <= r.status_code < 500, r.text
        assert r.json()["error"] == "InputError"


def test_depict(client: TestClient) -> None:
    r = client.get("/v1/chem/depict", params={"smiles": "c1ccccc1O", "width": 200, "height": 150})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in r.text and "width='200px'" in r.text
    bad = client.get("/v1/chem/depict", params={"smiles": "C1CC("})
    assert bad.status_code == 422 and "malformed SMILES" in bad.json()["message"]
    assert client.get("/v1/chem/depict", params={"smiles": "CCO", "width": 99999}).status_code == 422
    assert client.get("/v1/chem/depict").status_code == 422


def test_login_required() -> None:
    anonymous = TestClient(create_app(with_web=False), raise_server_exceptions=False)
    assert anonymous.post("/v1/chem/profile", json={"smiles": ["CCO"]}).status_code == 401
    assert anonymous.get("/v1/chem/depict", params={"smiles": "CCO"}).status_code == 401
