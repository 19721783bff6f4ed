"""Fixtures shared by every test package.

* ``shared_data``: the ``../shared/data`` folder beside the checkout; tests that need it skip with
  a clear reason where it is absent (a user's machine has no ``../shared``).
* ``tl_env``: an isolated installation (data dir and SQLite database in a temp dir) with the
  migrations applied, so tests never touch the user's real data.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("THERALAB_SHARED_DATA", ROOT.parent / "shared" / "data"))
TEST_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"../shared/data not found at {SHARED_DATA}; reference data sets are not on this machine")
    return SHARED_DATA


@pytest.fixture(scope="session")
def reference_data() -> Path:
    """Small reference fixtures (BCG, Theoph, Shah 1998, NEWS2 vectors, reference values) in the repo.

    Same relative paths as in ``../shared/data``, so the reference-value tests run on a fresh clone.
    """
    return TEST_DATA / "reference"


@pytest.fixture(scope="session")
def test_data() -> Path:
    return TEST_DATA


PG_URL = os.environ.get("THERALAB_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_available() -> str | None:
    """None when the local PostgreSQL answers, else the reason it does not."""
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means 'skip with this reason'
        return f"PostgreSQL not reachable at {PG_URL}: {exc}"


@pytest.fixture
def pg_schema_url():
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards (isolates parallel runs)."""
    reason = _pg_available()
    if reason:
        pytest.skip(reason)
    import uuid

    import psycopg

    schema = f"tl_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    from theralab.runtime.db import reset_engine

    reset_engine()
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """Each storage test runs twice: on a SQLite file and on the local PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'theralab.db'}"
    return request.getfixturevalue("pg_schema_url")


@pytest.fixture
def tl_env(tmp_path, monkeypatch):
    """An isolated installation: data dir in tmp, SQLite database migrated to head."""
    from theralab.runtime import migrate
    from theralab.settings import get_settings, reset_settings

    monkeypatch.setenv("THERALAB_DATA_DIR", str(tmp_path / "tl"))
    monkeypatch.delenv("THERALAB_DATABASE_URL", raising=False)
    monkeypatch.setenv("THERALAB_EXECUTOR", "local")
    monkeypatch.setenv("THERALAB_WORKERS", "2")
    reset_settings()
    migrate.upgrade()
    yield get_settings()
    reset_settings()


@pytest.fixture
def tl_env_any_db(db_url, tmp_path, monkeypatch):
    """Like ``tl_env`` but on each database of ``db_url`` (SQLite and PostgreSQL)."""
    from theralab.runtime import migrate
    from theralab.settings import get_settings, reset_settings

    monkeypatch.setenv("THERALAB_DATA_DIR", str(tmp_path / "tl"))
    monkeypatch.setenv("THERALAB_DATABASE_URL", db_url)
    reset_settings()
    migrate.upgrade()
    yield get_settings()
    reset_settings()


@pytest.fixture
def api(tl_env):
    """A TestClient on the full app, with users 'res' (researcher), 'doc' (clinician), 'root' (admin).

    'res' and 'doc' are on the care team 'hospital', which has every patient (``*``): tests of
    object-level access create their own users and teams (``tests/privacy/test_careteam.py``).

    ``api.login(name)`` returns headers carrying a fresh bearer token for that user.
    """
    from fastapi.testclient import TestClient

    from theralab.app import create_app
    from theralab.privacy import careteam
    from theralab.privacy.auth import create_user
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        create_user(session, "res", "password-res", ["researcher"])
        create_user(session, "doc", "password-doc", ["clinician"])
        create_user(session, "root", "password-root", ["admin"])
        create_user(session, "pat", "password-pat", ["patient"])
        careteam.add_member(session, "hospital", "doc")
        careteam.add_member(session, "hospital", "res")
        careteam.add_patients(session, "hospital", ["*"])
    client = TestClient(create_app())

    def login(name: str) -> dict[str, str]:
        response = client.post("/v1/auth/token", data={"username": name, "password": f"password-{name}"})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    client.login = login  # type: ignore[attr-defined]
    with client:
        yield client
