"""Apply Alembic migrations programmatically (``theralab db upgrade`` and ``make run`` call this)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations and the configured database."""
    from theralab.settings import get_settings, normalise_url

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


def head() -> str:
    """The newest revision of the packaged migrations."""
    from alembic.script import ScriptDirectory

    return str(ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head())


def ensure_schema(engine: object) -> str:
    """Make a database usable by the command that is about to use it.

    An empty database (no tables at all: a new data folder, a fresh PostgreSQL schema) is brought to
    the latest schema on the spot, so ``theralab screen run`` on a new ``THERALAB_DATA_DIR`` works
    instead of failing on "no such table". A database at an older revision is left alone (upgrading
    a shared server is the operator's decision) and the error says the exact command to run.

    Returns:
        ``"created"``, ``"current"`` or ``"unmanaged"`` (tables but no Alembic version: not ours to touch).

    Raises:
        TheralabError: the schema is older than this version of theralab.
    """
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import inspect

    from theralab.errors import TheralabError

    with engine.connect() as conn:  # type: ignore[attr-defined]
        tables = inspect(conn).get_table_names()
        rev = MigrationContext.configure(conn).get_current_revision() if tables else None
    url = engine.url.render_as_string(hide_password=False)  # type: ignore[attr-defined]
    if not tables:
        try:
            upgrade(url)
        except Exception:  # another process may have created it at the same moment
            if current(url) != head():
                raise
        return "created"
    if rev is None:
        return "unmanaged"
    if rev != head():
        raise TheralabError(f"the database schema is at revision {rev}, this theralab needs {head()}",
                            where=engine.url.render_as_string(hide_password=True),  # type: ignore[attr-defined]
                            hint="run 'theralab db upgrade' (back up a production database first)")
    return "current"
