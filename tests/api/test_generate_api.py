"""``/v1/generate`` through FastAPI's TestClient with an authenticated researcher."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from rdkit import Chem
from rdkit.Chem import QED

import theralab.privacy.deps as deps

SCORING = {"components": [{"name": "qed", "type": "qed"},
                          {"name": "no_s", "type": "substructure", "smarts": "[#16]", "mode": "forbid"}]}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    """The API on a fresh database of its own (never the user's default installation)."""
    from theralab.runtime import migrate
    from theralab.settings import reset_settings

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("THERALAB_DATA_DIR", str(tmp_path_factory.mktemp("generate-api") / "tl"))
        mp.delenv("THERALAB_DATABASE_URL", raising=False)
        reset_settings()
        migrate.upgrade()
        yield _client()
    reset_settings()


def _client() -> TestClient:
    try:
        from theralab.app import create_app

        app = create_app(with_web=False)
    except ImportError:
        from theralab.api.routes.generate import router

        app = FastAPI()
        app.include_router(router, prefix="/v1")
    app.dependency_overrides[deps.get_current_user] = lambda: deps.Principal("t", frozenset({"researcher"}))
    return TestClient(app)


def test_score_returns_components_in_input_order(client: TestClient) -> None:
    r = client.post("/v1/generate/score", json={"smiles": ["CCO", "CSC", "nope"], "scoring": SCORING})
    assert r.status_code == 200, r.text
    mols = r.json()["molecules"]
    assert mols[0]["components"]["qed"] == pytest.approx(QED.qed(Chem.MolFromSmiles("CCO")))
    assert mols[1]["score"] == 0.0 and mols[1]["components"]["no_s"] == 0.0
    assert mols[2]["score"] == 0.0 and mols[2]["error"] and mols[2]["raw"]["qed"] is None


def test_small_ga_run_improves(client: TestClient) -> None:
    start = ["CCO", "CCN(CC)CC", "c1ccccc1", "CC(=O)Oc1ccccc1C(=O)O", "CCOC(=O)c1ccccc1"]
    r = client.post("/v1/generate/run", json={"scoring": SCORING, "start_smiles": start, "budget": 80,
                                              "population_size": 10, "offspring_size": 10, "top_k": 5})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["calls"] <= 80 and len(body["molecules"]) == 5 and body["history"]
    best_start = max(QED.qed(Chem.MolFromSmiles(s)) for s in start)
    assert body["molecules"][0]["score"] > best_start and body["molecules"][0]["rank"] == 1


@pytest.mark.parametrize("scoring, match", [
    ({"components": [{"name": "x", "type": "custom", "function": "os:system"}]}, "not accepted over the API"),
    ({"components": [{"name": "x", "type": "model", "model": "/etc/passwd"}]}, "not a path"),
    ({"components": [{"name": "x", "type": "substructure", "smarts": "[C"}]}, "SMARTS does not parse"),
    ({"components": [{"name": "x", "type": "qed", "bogus": 1}]}, "invalid run file"),
])
def test_bad_scoring_is_4xx(client: TestClient, scoring: dict, match: str) -> None:
    r = client.post("/v1/generate/score", json={"smiles": ["CCO"], "scoring": scoring})
    assert 400 <= r.status_code < 500 and match in r.text


def test_budget_cap_is_422(client: TestClient) -> None:
    r = client.post("/v1/generate/run", json={"scoring": SCORING, "start_smiles": ["CCO", "CCN"], "budget": 10**6})
    assert r.status_code == 422
