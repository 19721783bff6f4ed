"""A warm server: the app loads the ADMET panel at start-up (THERALAB_WARM_MODELS, set by
``theralab serve``), so the first request uses the loaded panel instead of loading one."""

from __future__ import annotations

import pytest


def test_panel_is_loaded_at_start_up_and_reused(tl_env, monkeypatch):
    pytest.importorskip("admet_ai")
    from fastapi.testclient import TestClient

    from theralab.app import create_app
    from theralab.discovery.admet.panel import get_panel
    from theralab.privacy.auth import create_user
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        create_user(session, "res", "password-res", ["researcher"])
    monkeypatch.setenv("THERALAB_WARM_MODELS", "panel")
    get_panel.cache_clear()
    app = create_app(with_web=False)
    with TestClient(app) as client:
        app.state.warm_thread.join(300)
        assert get_panel.cache_info().currsize == 1  # loaded before any request
        token = client.post("/v1/auth/token", data={"username": "res", "password": "password-res"}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        smiles = ["CC(=O)Nc1ccc(O)cc1", "CC(=O)Oc1ccccc1C(=O)O", "Cn1cnc2c1c(=O)n(C)c(=O)n2C", "CCO", "c1ccccc1O",
                  "CC(C)Cc1ccc(cc1)C(C)C(=O)O", "O=C(O)c1ccccc1O", "CCN(CC)CC", "c1ccncc1", "CC(=O)O"]
        misses = get_panel.cache_info().misses
        r = client.post("/v1/admet/predict", json={"smiles": smiles}, headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["scored"] == 10
        assert get_panel.cache_info().misses == misses  # the request reused the warm panel


def test_no_warm_up_unless_asked(tl_env, monkeypatch):
    from fastapi.testclient import TestClient

    from theralab.app import create_app

    monkeypatch.delenv("THERALAB_WARM_MODELS", raising=False)
    app = create_app(with_web=False)
    with TestClient(app):
        assert not hasattr(app.state, "warm_thread")
