"""trust: audit hash chain and context, forced password change, refresh tokens, consent

Revision ID: 0006_trust
Revises: 0005_assistant
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import theralab.runtime.db

revision = "0006_trust"
down_revision = "0005_assistant"
branch_labels = None
depends_on = None

_APPEND_ONLY_SQLITE = [
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
    # the only update allowed is sealing an unsealed event (setting seq, prev_hash and hash once)
    """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
       WHEN OLD.hash != '' OR NEW.at IS NOT OLD.at OR NEW.actor IS NOT OLD.actor OR NEW.action IS NOT OLD.action
         OR NEW.outcome IS NOT OLD.outcome OR NEW.resource_id IS NOT OLD.resource_id
         OR NEW.patient_id IS NOT OLD.patient_id
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
]
_APPEND_ONLY_PG = [
    """CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'DELETE' OR OLD.hash <> '' OR NEW.at IS DISTINCT FROM OLD.at
            OR NEW.actor IS DISTINCT FROM OLD.actor OR NEW.action IS DISTINCT FROM OLD.action
            OR NEW.outcome IS DISTINCT FROM OLD.outcome OR NEW.resource_id IS DISTINCT FROM OLD.resource_id
            OR NEW.patient_id IS DISTINCT FROM OLD.patient_id THEN
           RAISE EXCEPTION 'audit events are append-only';
         END IF;
         RETURN NEW;
       END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
       FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""",
]


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("patient_id", sa.String(length=120), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("channel", sa.String(length=20), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("source", sa.String(length=120), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=False, server_default=""))
        batch_op.create_unique_constraint(batch_op.f("uq_audit_events_seq"), ["seq"])
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column("patient_id", sa.String(length=120), nullable=False, server_default=""))
    op.create_table(
        "privacy_refresh_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=120), nullable=False),
        sa.Column("family", sa.String(length=64), nullable=False),
        sa.Column("issued_at", theralab.runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", theralab.runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", theralab.runtime.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", theralab.runtime.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_privacy_refresh_tokens_token_hash")),
    )
    op.create_index(op.f("ix_privacy_refresh_tokens_username"), "privacy_refresh_tokens", ["username"])
    op.create_index(op.f("ix_privacy_refresh_tokens_family"), "privacy_refresh_tokens", ["family"])
    op.create_table(
        "privacy_consents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("patient_id", sa.String(length=120), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("granted", sa.Integer(), nullable=False),
        sa.Column("recorded_at", theralab.runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=120), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_consents")),
    )
    op.create_index(op.f("ix_privacy_consents_patient_id"), "privacy_consents", ["patient_id"])
    statements = _APPEND_ONLY_PG if op.get_bind().dialect.name == "postgresql" else _APPEND_ONLY_SQLITE
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
    op.drop_index(op.f("ix_privacy_consents_patient_id"), table_name="privacy_consents")
    op.drop_table("privacy_consents")
    op.drop_index(op.f("ix_privacy_refresh_tokens_family"), table_name="privacy_refresh_tokens")
    op.drop_index(op.f("ix_privacy_refresh_tokens_username"), table_name="privacy_refresh_tokens")
    op.drop_table("privacy_refresh_tokens")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("patient_id")
        batch_op.drop_column("must_change_password")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_events_seq"), type_="unique")
        for column in ("hash", "prev_hash", "seq", "source", "channel", "patient_id"):
            batch_op.drop_column(column)
