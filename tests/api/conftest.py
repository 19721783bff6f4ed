"""Fixtures of the API tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The API (no web pages) over a fresh SQLite schema in ``tmp_path``; tests override the user."""
    from theralab.settings import reset_settings

    monkeypatch.setenv("THERALAB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("THERALAB_DATABASE_URL", raising=False)
    reset_settings()
    import theralab.ehr.tables  # noqa: F401
    import theralab.privacy.tables  # noqa: F401
    from theralab.app import create_app
    from theralab.runtime.db import Base, get_engine

    Base.metadata.create_all(get_engine())
    yield create_app(with_web=False)
    reset_settings()
