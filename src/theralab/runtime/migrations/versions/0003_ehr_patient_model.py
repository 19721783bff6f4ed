"""ehr patient model

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 04:20:55.695684

Why: imported FHIR bundles and Synthea CSVs land in one patient record (``ehr_patients`` and one
child table per resource kind, deleted with the patient), coded so that cohort queries and trial
matching can ask by code and unit.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from theralab.runtime.migration_ops import coded, drop_table, index_columns, patient_table, record_id, text, utc


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ehr_patients",
        record_id(),
        text("mrn", 128),
        text("family", 200),
        text("given", 200),
        text("gender", 20),
        sa.Column("birth_date", sa.Date(), nullable=True),
        utc("deceased_at"),
        sa.Column("deceased", sa.Boolean(), nullable=False),
        text("race", 100),
        text("ethnicity", 100),
        text("birth_sex", 10),
        text("city", 200),
        text("state", 100),
        text("country", 100),
        text("marital_status", 20),
        text("language", 50),
        text("source", 300),
        utc("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ehr_patients")),
    )
    patient_table(
        "ehr_allergies", record_id(), record_id("patient_id"), *coded(),
        text("clinical_status", 30), text("verification_status", 30), text("type", 30), text("category", 60),
        text("criticality", 30), utc("recorded"), sa.Column("reactions", sa.JSON(), nullable=False),
    )
    index_columns("ehr_allergies", "code", "patient_id")
    patient_table(
        "ehr_conditions", record_id(), record_id("patient_id"), *coded(),
        text("clinical_status", 30), text("verification_status", 30), text("category", 60),
        utc("onset"), utc("abatement"), utc("recorded"), record_id("encounter_id", nullable=True),
    )
    index_columns("ehr_conditions", "code", "patient_id")
    patient_table(
        "ehr_encounters", record_id(), record_id("patient_id"), text("status", 30), text("class_code", 30),
        *coded(codings=False), utc("start"), utc("end"), text("reason_code", 64), text("reason_display", 500),
    )
    index_columns("ehr_encounters", "patient_id")
    patient_table(
        "ehr_family_history", record_id(), sa.Column("seq", sa.Integer(), nullable=False), record_id("patient_id"),
        text("status", 30), text("relationship", 30), text("relationship_display", 100), *coded(codings=False),
        sa.Column("onset_age", sa.Float(), nullable=True), utc("recorded"),
        key=("id", "seq"),
    )
    index_columns("ehr_family_history", "code", "patient_id")
    patient_table(
        "ehr_genotypes", record_id(), record_id("patient_id"), text("gene", 30, nullable=False),
        text("diplotype", 200), text("phenotype", 200), sa.Column("activity_score", sa.Float(), nullable=True),
        utc("effective"), text("method", 200),
    )
    op.create_index("ix_ehr_genotypes_patient_gene", "ehr_genotypes", ["patient_id", "gene"], unique=False)
    patient_table(
        "ehr_medications", text("resource_type", 40, nullable=False), record_id(), record_id("patient_id"),
        *coded(), text("status", 30), text("intent", 30), utc("start"), utc("end"),
        sa.Column("dosage", sa.Text(), nullable=True), text("reason_code", 64), record_id("encounter_id", nullable=True),
        key=("resource_type", "id"),
    )
    index_columns("ehr_medications", "code", "patient_id")
    patient_table(
        "ehr_notes", text("resource_type", 40, nullable=False), record_id(), record_id("patient_id"),
        *coded(codings=False), text("status", 30), utc("date"), text("content_type", 100),
        sa.Column("text", sa.Text(), nullable=False), sa.Column("result_ids", sa.JSON(), nullable=False),
        record_id("encounter_id", nullable=True),
        key=("resource_type", "id"),
    )
    index_columns("ehr_notes", "patient_id")
    patient_table(
        "ehr_observations", record_id(), record_id("patient_id"), record_id("parent_id", nullable=True),
        *coded(codings=False), text("category", 60), text("status", 30), utc("effective"),
        sa.Column("value", sa.Float(), nullable=True), text("unit", 60),
        sa.Column("value_orig", sa.Float(), nullable=True), text("unit_orig", 60),
        sa.Column("unit_ok", sa.Boolean(), nullable=False), text("comparator", 4),
        sa.Column("value_text", sa.Text(), nullable=True), text("value_system", 200), text("value_code", 64),
        record_id("encounter_id", nullable=True), text("device_id", 128),
    )
    index_columns("ehr_observations", "code", "parent_id")
    op.create_index("ix_ehr_observations_patient_code_time", "ehr_observations", ["patient_id", "code", "effective"],
                    unique=False)
    patient_table(
        "ehr_procedures", record_id(), record_id("patient_id"), *coded(), text("status", 30), utc("start"),
        utc("end"), text("reason_code", 64), record_id("encounter_id", nullable=True),
    )
    index_columns("ehr_procedures", "code", "patient_id")


def downgrade() -> None:
    drop_table("ehr_procedures", "patient_id", "code")
    drop_table("ehr_observations", "parent_id", "code", named=("ix_ehr_observations_patient_code_time",))
    drop_table("ehr_notes", "patient_id")
    drop_table("ehr_medications", "patient_id", "code")
    drop_table("ehr_genotypes", named=("ix_ehr_genotypes_patient_gene",))
    drop_table("ehr_family_history", "patient_id", "code")
    drop_table("ehr_encounters", "patient_id")
    drop_table("ehr_conditions", "patient_id", "code")
    drop_table("ehr_allergies", "patient_id", "code")
    op.drop_table("ehr_patients")
