"""house: streamed vital signs become patient observations (one vital-signs store)

Revision ID: 0008_house
Revises: 0007_monitoring
Create Date: 2026-12-06 16:30:00

Why: ``vital_readings`` kept streamed vitals apart from the patient record, without a link to the
patient, so the patient page's latest values never showed them and two tables held the same kind
of fact. Every row moves to ``ehr_observations`` (LOINC or SNOMED CT coded, canonical unit,
foreign key to the patient) with ``source`` ``stream:<transport>``, ``received_at`` and the id
the ingestor derives from (device, code, time), so a reading re-sent after the upgrade is still
a duplicate. A reading or device whose patient is not in the record gets a minimal patient row
(``source`` ``migration:0008_house``) rather than being dropped; devices gain a foreign key to
the patient. The downgrade moves the streamed rows back into ``vital_readings``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from theralab.monitoring.streams.store import STREAM_PREFIX, observation_values
from theralab.runtime.db import UTCDateTime, utcnow
from theralab.runtime.migration_ops import add_column, drop_column, drop_table, utc

revision = "0008_house"
down_revision = "0007_monitoring"
branch_labels = None
depends_on = None

STUB_SOURCE = "migration:0008_house"
CHUNK = 2000
DEVICE_FK = "fk_monitoring_devices_patient_id_ehr_patients"

#: the table this revision retires, as 0002 created it (the downgrade creates it again from this)
vital_readings = sa.Table(
    "vital_readings",
    sa.MetaData(),
    sa.Column("id", sa.Integer(), nullable=False),
    *(sa.Column(name, sa.String(length=120), nullable=False) for name in ("patient_id", "device_id")),
    sa.Column("code", sa.String(length=20), nullable=False),
    sa.Column("value", sa.Float(), nullable=False),
    sa.Column("unit", sa.String(length=20), nullable=False),
    *(sa.Column(name, UTCDateTime(timezone=True), nullable=False) for name in ("at", "received_at")),
    sa.Column("source", sa.String(length=10), nullable=False),
    sa.PrimaryKeyConstraint("id", name="pk_vital_readings"),
    sa.UniqueConstraint("device_id", "code", "at", name="uq_vital_readings_device_code_at"),
    sa.Index("ix_vital_readings_patient_code_at", "patient_id", "code", "at"),
)
observations = sa.table(
    "ehr_observations",
    *(sa.column(name, sa.String()) for name in ("id", "patient_id", "device_id", "system", "code", "display",
                                                "category", "status", "unit", "unit_orig", "source")),
    *(sa.column(name, UTCDateTime()) for name in ("effective", "received_at", "updated_at")),
    sa.column("value", sa.Float()),
    sa.column("value_orig", sa.Float()),
    sa.column("unit_ok", sa.Boolean()),
)
patients = sa.table("ehr_patients", sa.column("id", sa.String()), sa.column("deceased", sa.Boolean()),
                    sa.column("source", sa.String()), sa.column("updated_at", UTCDateTime()))
devices = sa.table("monitoring_devices", sa.column("patient_id", sa.String()))


def _add_missing_patients(conn: sa.Connection) -> None:
    """A patient row for every id that readings or devices name but the record lacks (nothing is dropped)."""
    known = set(conn.scalars(sa.select(patients.c.id)))
    named = set(conn.scalars(sa.select(vital_readings.c.patient_id).distinct()))
    named |= set(conn.scalars(sa.select(devices.c.patient_id).distinct()))
    missing = sorted(named - known)
    if missing:
        now = utcnow()
        op.bulk_insert(patients, [{"id": pid, "deceased": False, "source": STUB_SOURCE, "updated_at": now}
                                  for pid in missing])


def _readings_to_observations(conn: sa.Connection) -> None:
    last = 0
    while True:
        rows = conn.execute(sa.select(vital_readings).where(vital_readings.c.id > last)
                            .order_by(vital_readings.c.id).limit(CHUNK)).all()
        if not rows:
            return
        op.bulk_insert(observations, [
            observation_values(patient_id=r.patient_id, device_id=r.device_id, code=r.code, value=r.value,
                               unit=r.unit, at=r.at, received_at=r.received_at, transport=r.source)
            for r in rows])
        last = rows[-1].id


def upgrade() -> None:
    conn = op.get_bind()
    add_column("ehr_observations", utc("received_at"))
    if conn.dialect.name == "postgresql":  # SQLite does not enforce lengths; room for 'theralab-ews/<patient>'
        op.alter_column("ehr_observations", "device_id", type_=sa.String(200), existing_nullable=True)
    _add_missing_patients(conn)
    _readings_to_observations(conn)
    drop_table("vital_readings", named=("ix_vital_readings_patient_code_at",))
    with op.batch_alter_table("monitoring_devices") as batch:
        batch.create_foreign_key(DEVICE_FK, "ehr_patients", ["patient_id"], ["id"], ondelete="CASCADE")


def downgrade() -> None:
    conn = op.get_bind()
    with op.batch_alter_table("monitoring_devices") as batch:
        batch.drop_constraint(DEVICE_FK, type_="foreignkey")
    vital_readings.create(conn)
    streamed = observations.c.source.like(f"{STREAM_PREFIX}%")
    last = ""
    while True:
        rows = conn.execute(sa.select(observations).where(streamed, observations.c.id > last)
                            .order_by(observations.c.id).limit(CHUNK)).all()
        if not rows:
            break
        op.bulk_insert(vital_readings, [
            {"patient_id": r.patient_id, "device_id": r.device_id, "code": r.code, "value": r.value, "unit": r.unit,
             "at": r.effective, "received_at": r.received_at or r.updated_at,
             "source": r.source.removeprefix(STREAM_PREFIX)} for r in rows])
        last = rows[-1].id
    conn.execute(sa.delete(observations).where(streamed))
    if conn.dialect.name == "postgresql":
        op.alter_column("ehr_observations", "device_id", type_=sa.String(128), existing_nullable=True)
    drop_column("ehr_observations", "received_at")
