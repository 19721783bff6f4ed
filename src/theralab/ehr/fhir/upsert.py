"""Write mapped rows: ``INSERT .. ON CONFLICT DO UPDATE`` keyed by the FHIR id (SQLite and PostgreSQL).

Why: importing the same export twice must update rows, never duplicate them, and one multi-row
statement per table keeps a 100,000-patient load fast.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from theralab.ehr import tables as store
from theralab.errors import InputError
from theralab.runtime.db import utcnow


def _defaults(table: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in table.columns:
        if col.name in ("updated_at",):
            continue
        arg = col.default.arg if col.default is not None else None
        if callable(arg):
            out[col.name] = [] if col.name in ("codings", "reactions", "result_ids") else None
        else:
            out[col.name] = arg
    return out


def upsert(session: Session, model: type[store.Base], rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` or update those whose primary key exists (SQLite and PostgreSQL)."""
    if not rows:
        return
    table = model.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - other back ends are not supported
        raise InputError(
            f"database dialect {dialect!r} is not supported for EHR import", hint="use SQLite or PostgreSQL"
        )
    pk = [c.name for c in table.primary_key.columns]
    defaults = _defaults(table)
    now = utcnow()
    unique: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        full = {**defaults, **row, "updated_at": now}
        unique[tuple(full[k] for k in pk)] = full  # the last version of a resource in a batch wins
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=pk, set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in pk}
    )
    session.execute(stmt, list(unique.values()))


__all__ = ["upsert"]
