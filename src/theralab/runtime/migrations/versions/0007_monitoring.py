"""monitoring: alert announcement clock, NEWS2 score revisions

Revision ID: 0007_monitoring
Revises: 0006_trust
Create Date: 2026-12-06 13:30:00

Why: an alert re-opened because the condition got worse needs its own escalation clock
(``alerts.announced_at``), a redelivered MQTT message must be told from an identical new one
(``quarantined_readings.message_ref``), and a NEWS2 recomputed when more vitals for the same time arrive keeps
every earlier value with when it was computed (``monitoring_score_revisions``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import theralab.runtime.db
from theralab.runtime.migration_ops import add_column, drop_column, text, utc

revision = "0007_monitoring"
down_revision = "0006_trust"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_column("alerts", utc("announced_at"))
    add_column("quarantined_readings", text("message_ref", 200))
    op.create_table(
        "monitoring_score_revisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("patient_id", sa.String(length=120), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("at", theralab.runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("previous", sa.Float(), nullable=True),
        sa.Column("computed_at", theralab.runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_score_revisions")),
    )
    op.create_index("ix_monitoring_score_revisions_patient_at", "monitoring_score_revisions",
                    ["patient_id", "code", "at"])


def downgrade() -> None:
    op.drop_index("ix_monitoring_score_revisions_patient_at", table_name="monitoring_score_revisions")
    op.drop_table("monitoring_score_revisions")
    drop_column("quarantined_readings", "message_ref")
    drop_column("alerts", "announced_at")
