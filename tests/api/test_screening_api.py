"""``POST /v1/screening/search`` through FastAPI's TestClient, with a logged-in researcher."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import theralab.privacy.deps as deps
from theralab.chem.search import FingerprintIndex, build_index

LIB = [
    "CC(=O)Nc1ccc(O)cc1 paracetamol",
    "CC(=O)Oc1ccccc1C(=O)O aspirin",
    "O=C(O)c1ccccc1O salicylic",
    "CC(C)Cc1ccc(cc1)C(C)C(=O)O ibuprofen",
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C caffeine",
    "CC(=O)Nc1ccc(OCC)cc1 phenacetin",
]


@pytest.fixture()
def client(tl_env) -> TestClient:  # type: ignore[no-untyped-def]
    lib = Path(tl_env.data_dir) / "lib.smi"
    lib.parent.mkdir(parents=True, exist_ok=True)
    lib.write_text("\n".join(LIB) + "\n")
    build_index(lib, Path(tl_env.data_dir) / "libraries" / "drugs", workers=1)
    try:
        from theralab.app import create_app

        app = create_app(with_web=False)
    except ImportError:  # foundation not importable: mount only this router
        from theralab.api.routes.screening import router

        app = FastAPI()
        app.include_router(router, prefix="/v1")
    app.dependency_overrides[deps.get_current_user] = lambda: deps.Principal("t", frozenset({"researcher"}))
    return TestClient(app)


def test_top_k_matches_library_search(client: TestClient, tl_env) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/v1/screening/search", json={"index": "drugs", "query": "CC(=O)Nc1ccc(OC)cc1", "top": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    ref = FingerprintIndex.open(Path(tl_env.data_dir) / "libraries/drugs").top_k("CC(=O)Nc1ccc(OC)cc1", 3)
    assert [(h["id"], h["similarity"]) for h in body["hits"]] == [(h.id, h.similarity) for h in ref.hits]
    assert body["hits"][0]["id"] == "phenacetin" and body["fingerprint"]["bits"] == 2048
    assert body["count"] == 3 and body["truncated"] is False and body["mode"] == "top"


def test_threshold_and_substructure(client: TestClient) -> None:
    r = client.post("/v1/screening/search", json={"index": "drugs", "query": "CC(=O)Nc1ccc(O)cc1", "threshold": 1.0})
    assert [h["id"] for h in r.json()["hits"]] == ["paracetamol"] and r.json()["hits"][0]["similarity"] == 1.0
    r = client.post("/v1/screening/search", json={"index": "drugs", "substructure": "c1ccccc1C(=O)[OH]"})
    assert r.status_code == 200
    assert [h["id"] for h in r.json()["hits"]] == ["aspirin", "salicylic"]
    r = client.post("/v1/screening/search", json={"index": "drugs", "substructure": "c", "max_hits": 2})
    assert len(r.json()["hits"]) == 2 and r.json()["truncated"] is True


@pytest.mark.parametrize(
    "body, status, where",
    [
        ({"index": "drugs", "query": "C1CC(", "top": 3}, 422, "query"),
        ({"index": "nope", "query": "CCO", "top": 3}, 404, "index"),
        ({"index": "../../etc", "query": "CCO", "top": 3}, 422, "index"),
        ({"index": "/etc", "query": "CCO", "top": 3}, 422, "index"),
        ({"index": "drugs", "query": "CCO", "top": 3, "threshold": 0.5}, 422, "body"),
        ({"index": "drugs", "query": "CCO", "threshold": 1.5}, 422, "body.threshold"),
        ({"index": "drugs", "query": "CCO", "top": 3, "colour": "red"}, 422, "body.colour"),
    ],
)
def test_bad_requests(client: TestClient, body: dict, status: int, where: str) -> None:
    r = client.post("/v1/screening/search", json=body)
    assert r.status_code == status, r.text
    assert r.json()["where"] == where


def test_requires_login(tl_env) -> None:  # type: ignore[no-untyped-def]
    from theralab.app import create_app

    r = TestClient(create_app(with_web=False)).post(
        "/v1/screening/search", json={"index": "drugs", "query": "CCO", "top": 1}
    )
    assert r.status_code == 401 and r.json()["error"] == "AuthError"
