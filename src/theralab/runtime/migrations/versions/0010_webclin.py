"""monitoring: where a device is (bed or location), for the ward board

Revision ID: 0010_webclin
Revises: 0009_trust
Create Date: 2026-12-06 16:30:00

Why: a ward board lists patients by bed; the bedside device knows where it is, so the location is
kept with the device (``monitoring_devices.location``, e.g. "Ward 7A, bed 3"), optional for wearables.
"""

from __future__ import annotations

from theralab.runtime.migration_ops import add_column, drop_column, text

revision = "0010_webclin"
down_revision = "0009_trust"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_column("monitoring_devices", text("location", 120))


def downgrade() -> None:
    drop_column("monitoring_devices", "location")
