"""EHR test fixtures: an empty EHR database on SQLite and on the local PostgreSQL.

On PostgreSQL each test gets its own schema (dropped afterwards), so engineers sharing the
``test`` database never see each other's tables.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from theralab.ehr import tables as store
from theralab.runtime.db import Base

PG_URL = os.environ.get("THERALAB_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test").replace(
    "postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        eng = create_engine(f"sqlite:///{tmp_path / 'ehr.db'}")
        Base.metadata.create_all(eng, tables=store.ehr_tables())
        yield eng
        eng.dispose()
        return
    schema = f"ehr_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no PostgreSQL here"
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}")
    eng = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        Base.metadata.create_all(eng, tables=store.ehr_tables())
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def bulk_dir(shared_data: Path) -> Path:
    path = shared_data / "trials" / "synthea_bulk_10pt"
    if not path.is_dir():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture
def csv_dir(shared_data: Path) -> Path:
    path = shared_data / "trials" / "synthea_csv_27pt"
    if not path.is_dir():
        pytest.skip(f"{path} not found")
    return path
