"""Apply Alembic migrations programmatically (``theralab db upgrade`` and ``make run`` call this)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations and the configured database."""
    from theralab.runtime.db import normalise_url
    from theralab.settings import get_settings

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    settings = get_settings()
    if url is None:
        settings.ensure_dirs()
        url = settings.database_url
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Bring the database schema to ``revision`` (idempotent)."""
    command.upgrade(alembic_config(url), revision)


def current(url: str | None = None) -> str | None:
    """The database's current revision, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    cfg = alembic_config(url)
    engine = create_engine(cfg.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        rev = MigrationContext.configure(conn).get_current_revision()
    engine.dispose()
    return rev
