"""trust: care teams, the shared login throttle, scopes kept with refresh tokens

Revision ID: 0009_trust
Revises: 0008_house
Create Date: 2026-12-06 16:30:00

Why: a clinician sees only the patients of their care teams (``privacy_care_team_members``,
``privacy_care_team_patients``); failed logins are counted in the database so every server
process shares the throttle (``privacy_login_failures``); a refresh renews the SMART scopes the
login was granted, never more (``privacy_refresh_tokens.scope``); identifier and genome columns
may hold Fernet tokens (longer than the plain value), so on PostgreSQL they become TEXT (SQLite
does not enforce lengths).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import theralab.runtime.db
from theralab.runtime.migration_ops import add_column, drop_column

revision = "0009_trust"
down_revision = "0008_house"
branch_labels = None
depends_on = None

#: Columns typed theralab.privacy.crypto.EncryptedText (identifiers and genotypes).
ENCRYPTED = {"ehr_patients": ("mrn", "family", "given", "city"), "ehr_genotypes": ("diplotype", "phenotype")}
LENGTHS = {"mrn": 128}


def upgrade() -> None:
    for name, column in (("privacy_care_team_members", "username"), ("privacy_care_team_patients", "patient_id")):
        op.create_table(
            name,
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("team", sa.String(length=120), nullable=False),
            sa.Column(column, sa.String(length=120), nullable=False),
            sa.Column("added_at", theralab.runtime.db.UTCDateTime(timezone=True), nullable=False),
            sa.Column("added_by", sa.String(length=120), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
            sa.UniqueConstraint("team", column, name=f"uq_{name}_team_{column}"),
        )
        op.create_index(op.f(f"ix_{name}_team"), name, ["team"])
        op.create_index(op.f(f"ix_{name}_{column}"), name, [column])
    op.create_table(
        "privacy_login_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_login_failures")),
    )
    op.create_index(op.f("ix_privacy_login_failures_key"), "privacy_login_failures", ["key"])
    op.create_index(op.f("ix_privacy_login_failures_at"), "privacy_login_failures", ["at"])
    add_column("privacy_refresh_tokens", sa.Column("scope", sa.String(length=1000), nullable=False, server_default=""))
    if op.get_bind().dialect.name == "postgresql":
        for table, columns in ENCRYPTED.items():
            for column in columns:
                op.alter_column(table, column, type_=sa.Text(), existing_nullable=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, columns in ENCRYPTED.items():
            for column in columns:
                op.alter_column(table, column, type_=sa.String(length=LENGTHS.get(column, 200)),
                                existing_nullable=True)
    drop_column("privacy_refresh_tokens", "scope")
    op.drop_index(op.f("ix_privacy_login_failures_at"), table_name="privacy_login_failures")
    op.drop_index(op.f("ix_privacy_login_failures_key"), table_name="privacy_login_failures")
    op.drop_table("privacy_login_failures")
    for name, column in (("privacy_care_team_patients", "patient_id"), ("privacy_care_team_members", "username")):
        op.drop_index(op.f(f"ix_{name}_{column}"), table_name=name)
        op.drop_index(op.f(f"ix_{name}_team"), table_name=name)
        op.drop_table(name)
