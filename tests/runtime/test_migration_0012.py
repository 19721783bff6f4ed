"""Migration 0012_pgload: the partial index on streamed observations, as the ORM declares it (both databases)."""

from __future__ import annotations

from sqlalchemy import inspect

from theralab.runtime import migrate
from theralab.runtime.db import get_engine


def _indexes() -> set[str]:
    return {ix["name"] for ix in inspect(get_engine()).get_indexes("ehr_observations")}


def test_migrated_ehr_schema_matches_the_tables_and_downgrades(tl_env_any_db):
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from theralab.ehr.tables import ehr_tables
    from theralab.runtime.metadata import load_all

    names = {t.name for t in ehr_tables()}
    with get_engine().connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), load_all().metadata)
    index_ops = [d for d in diff if isinstance(d, tuple) and d[0] in ("add_index", "remove_index")]
    assert [d for d in index_ops if d[1].table.name in names] == []  # same indexes as the ORM declares
    assert "ix_ehr_observations_streamed" in _indexes()
    command.downgrade(migrate.alembic_config(), "0011_litkg")
    assert "ix_ehr_observations_streamed" not in _indexes()
    migrate.upgrade()
    assert migrate.current() == migrate.head() == "0012_pgload"
