"""Relational storage: one SQLAlchemy 2 engine per database URL and transactional sessions.

Every domain package declares its ORM tables on :class:`Base` (in its own module, e.g.
``theralab.ehr.tables``) and the Alembic migrations in ``theralab/runtime/migrations`` create them.
Writes go through :func:`session_scope`, which commits on success and rolls back on any error, so a
failure never leaves half-written rows. SQLite (default) and PostgreSQL run the same code.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from theralab.settings import RESET_HOOKS, get_settings, normalise_url

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every theralab table (shared metadata, stable constraint names)."""

    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always returned timezone-aware.

    SQLite drops time zones; this type normalises on the way in and re-attaches UTC on the way out,
    so comparisons behave the same on SQLite and PostgreSQL.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC)


_lock = threading.Lock()
_engines: dict[str, Engine] = {}


def get_engine(url: str | None = None) -> Engine:
    """Return the (cached) engine for ``url`` or for the configured database.

    The first use of a database in a process checks its schema (``runtime.migrate.ensure_schema``):
    an empty one is created at the latest revision, an outdated one raises with the command to run.
    SQLite engines get WAL journaling, foreign keys on and a busy timeout, so the API server and
    job workers can share one file.
    """
    if url is None:
        settings = get_settings()
        settings.ensure_dirs()
        url = settings.database_url
    url = normalise_url(url)
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite"):
                engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

                @event.listens_for(engine, "connect")
                def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
                    cur = dbapi_conn.cursor()
                    cur.execute("PRAGMA journal_mode=WAL")
                    cur.execute("PRAGMA foreign_keys=ON")
                    cur.execute("PRAGMA synchronous=NORMAL")
                    cur.close()

            else:
                engine = create_engine(url, pool_pre_ping=True)
            from theralab.runtime.migrate import ensure_schema

            ensure_schema(engine)  # an empty database gets the schema; an old one says what to run
            _engines[url] = engine
        return engine


def reset_engine() -> None:
    """Dispose every cached engine (tests that switch databases call this)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A transaction: commit when the block ends, roll back and re-raise on any exception."""
    factory = sessionmaker(bind=engine or get_engine(), expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


RESET_HOOKS.append(reset_engine)
