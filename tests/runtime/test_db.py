"""Storage: migrations, transactions and timestamps behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, inspect, select

from theralab.privacy.tables import AuditEvent, User
from theralab.runtime import migrate
from theralab.runtime.db import get_engine, session_scope


def test_migrations_create_the_schema_and_are_idempotent(tl_env_any_db):
    names = set(inspect(get_engine()).get_table_names())
    assert {"users", "audit_events", "jobs", "alembic_version"} <= names
    head = migrate.current()
    migrate.upgrade()  # second run is a no-op
    assert migrate.current() == head


def test_failed_transaction_leaves_no_rows(tl_env_any_db):
    with pytest.raises(RuntimeError):
        with session_scope() as session:
            session.add(User(username="a", password_hash="x", roles="researcher"))
            session.add(User(username="b", password_hash="x", roles="researcher"))
            session.flush()  # rows reached the database inside the transaction...
            raise RuntimeError("crash mid-write")
    with session_scope() as session:  # ...and none survived the rollback
        assert session.scalar(select(func.count()).select_from(User)) == 0


def test_unique_violation_rolls_back_the_whole_batch(tl_env_any_db):
    from sqlalchemy.exc import IntegrityError

    with session_scope() as session:
        session.add(User(username="dup", password_hash="x", roles="researcher"))
    with pytest.raises(IntegrityError):
        with session_scope() as session:
            session.add(User(username="fresh", password_hash="x", roles="researcher"))
            session.add(User(username="dup", password_hash="x", roles="researcher"))
    with session_scope() as session:
        assert sorted(session.scalars(select(User.username))) == ["dup"]


def test_timestamps_come_back_timezone_aware_utc(tl_env_any_db):
    paris = timezone(timedelta(hours=1))
    when = datetime(2026, 3, 1, 13, 0, tzinfo=paris)
    with session_scope() as session:
        session.add(AuditEvent(actor="t", action="x", at=when))
    with session_scope() as session:
        stored = session.scalar(select(AuditEvent.at))
    assert stored.tzinfo is not None
    assert stored == when
    assert stored.utcoffset() == timedelta(0)
