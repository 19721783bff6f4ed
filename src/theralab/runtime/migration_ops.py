"""What the Alembic migrations repeat: a column per index, a table dropped with its indexes, and the
column sets every patient-record table carries.

Why here: the generated migrations spelled these out table by table (an index block per column,
the same six columns in nine EHR tables), which buried what each migration really adds.

Frozen once released: a migration must create the same schema forever, so nothing here changes in
a way that alters what an existing migration creates; a new need gets a new helper.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from theralab.runtime.db import UTCDateTime


def utc(name: str, nullable: bool = True) -> sa.Column:
    """A timestamp column stored as UTC (:class:`~theralab.runtime.db.UTCDateTime`)."""
    return sa.Column(name, UTCDateTime(timezone=True), nullable=nullable)


def text(name: str, length: int, nullable: bool = True) -> sa.Column:
    """A ``VARCHAR(length)`` column."""
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def index_columns(table: str, *columns: str) -> None:
    """One index per column, named ``ix_<table>_<column>`` (the metadata's naming convention)."""
    for column in columns:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def drop_table(table: str, *indexed: str, named: tuple[str, ...] = ()) -> None:
    """Drop a table after its per-column indexes (``indexed``) and its explicitly ``named`` indexes."""
    for name in named:
        op.drop_index(name, table_name=table)
    for column in indexed:
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
    op.drop_table(table)


def add_column(table: str, column: sa.Column) -> None:
    """Add one column in batch mode, so that SQLite (which cannot alter a table in place) gets it too."""
    with op.batch_alter_table(table) as batch:
        batch.add_column(column)


def drop_column(table: str, column: str) -> None:
    """Drop one column in batch mode (SQLite copies the table without it)."""
    with op.batch_alter_table(table) as batch:
        batch.drop_column(column)


# ---------------------------------------------------------------- patient record (ehr_*)

def record_id(name: str = "id", nullable: bool = False) -> sa.Column:
    """A FHIR resource id (``VARCHAR(128)``)."""
    return text(name, 128, nullable)


def coded(codings: bool = True) -> list[sa.Column]:
    """``system``, ``code``, ``display`` and (usually) every coding of the resource as JSON."""
    columns = [text("system", 200), text("code", 64), text("display", 500)]
    return columns + ([sa.Column("codings", sa.JSON(), nullable=False)] if codings else [])


def patient_table(table: str, *columns: sa.Column, key: tuple[str, ...] = ("id",)) -> None:
    """Create an ``ehr_*`` child table: ``columns``, then where the row came from and when it was
    written, a cascading foreign key to ``ehr_patients`` on ``patient_id``, and the primary ``key``."""
    op.create_table(
        table,
        *columns,
        text("source", 300),
        utc("updated_at", nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["ehr_patients.id"], name=op.f(f"fk_{table}_patient_id_ehr_patients"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint(*key, name=op.f(f"pk_{table}")),
    )


__all__ = [
    "add_column", "coded", "drop_column", "drop_table", "index_columns", "patient_table", "record_id", "text", "utc",
]
