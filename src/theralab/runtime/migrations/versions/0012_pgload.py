"""pgload: a partial index on streamed observations (ingest statistics without a full scan)

Revision ID: 0012_pgload
Revises: 0011_litkg
Create Date: 2026-12-06 20:00:00

Why: ``GET /v1/ingest/stats`` counts streamed readings per transport (``source LIKE 'stream:%'``).
Without an index that is a scan of every observation, imported ones included, which grows with the
chart. The index holds streamed rows only, so an import of FHIR data writes no entry in it
(``theralab.ehr.tables.ObservationRow``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from theralab.ehr.tables import STREAMED_SQL

revision = "0012_pgload"
down_revision = "0011_litkg"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ehr_observations_streamed", "ehr_observations", ["source"], unique=False,
                    sqlite_where=sa.text(STREAMED_SQL), postgresql_where=sa.text(STREAMED_SQL))


def downgrade() -> None:
    op.drop_index("ix_ehr_observations_streamed", table_name="ehr_observations")
