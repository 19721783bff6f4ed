"""litkg: the literature knowledge graph (documents, entities, mentions, relations, evidence)

Revision ID: 0011_litkg
Revises: 0010_webclin
Create Date: 2026-12-06 16:30:00

Why: literature mining stores what it read so a researcher can ask which genes or drugs are linked to
a disease, by how many papers and since when, and click through to the sentences
(``theralab.literature.tables``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import theralab.runtime.db

revision = "0011_litkg"
down_revision = "0010_webclin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lit_documents",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("journal", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("loaded_by", sa.String(length=100), nullable=False),
        sa.Column("loaded_at", theralab.runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lit_documents")),
    )
    op.create_index(op.f("ix_lit_documents_year"), "lit_documents", ["year"])
    op.create_table(
        "lit_entities",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("doc_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lit_entities")),
    )
    op.create_index(op.f("ix_lit_entities_type"), "lit_entities", ["type"])
    op.create_index(op.f("ix_lit_entities_name"), "lit_entities", ["name"])
    op.create_table(
        "lit_mentions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("doc_id", sa.String(length=128), nullable=False),
        sa.Column("entity_id", sa.String(length=200), nullable=True),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("negated", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["doc_id"], ["lit_documents.id"], name=op.f("fk_lit_mentions_doc_id_lit_documents"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["entity_id"], ["lit_entities.id"], name=op.f("fk_lit_mentions_entity_id_lit_entities")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lit_mentions")),
    )
    op.create_index(op.f("ix_lit_mentions_doc_id"), "lit_mentions", ["doc_id"])
    op.create_index(op.f("ix_lit_mentions_entity_id"), "lit_mentions", ["entity_id"])
    op.create_table(
        "lit_relations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("type", sa.String(length=12), nullable=False),
        sa.Column("subject_id", sa.String(length=200), nullable=False),
        sa.Column("object_id", sa.String(length=200), nullable=False),
        sa.Column("doc_count", sa.Integer(), nullable=False),
        sa.Column("first_year", sa.Integer(), nullable=True),
        sa.Column("last_year", sa.Integer(), nullable=True),
        sa.Column("max_confidence", sa.Float(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["lit_entities.id"],
                                name=op.f("fk_lit_relations_subject_id_lit_entities")),
        sa.ForeignKeyConstraint(["object_id"], ["lit_entities.id"], name=op.f("fk_lit_relations_object_id_lit_entities")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lit_relations")),
        sa.UniqueConstraint("type", "subject_id", "object_id", name="uq_lit_relations_edge"),
    )
    op.create_index(op.f("ix_lit_relations_type"), "lit_relations", ["type"])
    op.create_index(op.f("ix_lit_relations_subject_id"), "lit_relations", ["subject_id"])
    op.create_index(op.f("ix_lit_relations_object_id"), "lit_relations", ["object_id"])
    op.create_table(
        "lit_evidence",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("relation_id", sa.Integer(), nullable=False),
        sa.Column("doc_id", sa.String(length=128), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["relation_id"], ["lit_relations.id"],
                                name=op.f("fk_lit_evidence_relation_id_lit_relations"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["doc_id"], ["lit_documents.id"], name=op.f("fk_lit_evidence_doc_id_lit_documents"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lit_evidence")),
    )
    op.create_index(op.f("ix_lit_evidence_relation_id"), "lit_evidence", ["relation_id"])
    op.create_index(op.f("ix_lit_evidence_doc_id"), "lit_evidence", ["doc_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_lit_evidence_doc_id"), table_name="lit_evidence")
    op.drop_index(op.f("ix_lit_evidence_relation_id"), table_name="lit_evidence")
    op.drop_table("lit_evidence")
    op.drop_index(op.f("ix_lit_relations_object_id"), table_name="lit_relations")
    op.drop_index(op.f("ix_lit_relations_subject_id"), table_name="lit_relations")
    op.drop_index(op.f("ix_lit_relations_type"), table_name="lit_relations")
    op.drop_table("lit_relations")
    op.drop_index(op.f("ix_lit_mentions_entity_id"), table_name="lit_mentions")
    op.drop_index(op.f("ix_lit_mentions_doc_id"), table_name="lit_mentions")
    op.drop_table("lit_mentions")
    op.drop_index(op.f("ix_lit_entities_name"), table_name="lit_entities")
    op.drop_index(op.f("ix_lit_entities_type"), table_name="lit_entities")
    op.drop_table("lit_entities")
    op.drop_index(op.f("ix_lit_documents_year"), table_name="lit_documents")
    op.drop_table("lit_documents")
