"""reports: population margins, transaction volumes, targets, official scores (see models/reports.py)

Revision ID: b5f1e1d00006
Revises: b5f1e1d00005
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "b5f1e1d00006"
down_revision: str | None = "b5f1e1d00005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "official_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("index_name", sa.String(length=20), nullable=False),
        sa.Column("province_code", sa.String(length=10), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("component", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=30), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("is_synthetic", sa.Boolean(), nullable=False),
        sa.Column("entered_by", sa.String(length=80), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_official_score")),
        sa.UniqueConstraint(
            "index_name", "province_code", "year", "component",
            name=op.f("uq_official_score_index_name_province_code_year_component"),
        ),
    )
    op.create_table(
        "report_target",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sector", sa.String(length=30), nullable=False),
        sa.Column("target_percent", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("is_synthetic", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_target")),
        sa.UniqueConstraint("sector", name=op.f("uq_report_target_sector")),
    )
    op.create_table(
        "population_margin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commune_id", sa.Integer(), nullable=False),
        sa.Column("reference_year", sa.Integer(), nullable=False),
        sa.Column("sex", sa.String(length=20), nullable=False),
        sa.Column("age_group", sa.String(length=20), nullable=False),
        sa.Column("ethnicity", sa.String(length=20), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("is_synthetic", sa.Boolean(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["commune_id"], ["commune.id"], name=op.f("fk_population_margin_commune_id_commune")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_population_margin")),
        sa.UniqueConstraint("commune_id", "reference_year", "sex", "age_group", "ethnicity", name="uq_population_margin_cell"),
    )
    with op.batch_alter_table("population_margin", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_population_margin_commune_id"), ["commune_id"], unique=False)
    op.create_table(
        "transaction_volume",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reception_point_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("transactions", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("is_synthetic", sa.Boolean(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reception_point_id"], ["reception_point.id"],
            name=op.f("fk_transaction_volume_reception_point_id_reception_point"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transaction_volume")),
        sa.UniqueConstraint("reception_point_id", "period_start", "period_end", name="uq_transaction_volume_period"),
    )
    with op.batch_alter_table("transaction_volume", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transaction_volume_reception_point_id"), ["reception_point_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("transaction_volume", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transaction_volume_reception_point_id"))
    op.drop_table("transaction_volume")
    with op.batch_alter_table("population_margin", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_population_margin_commune_id"))
    op.drop_table("population_margin")
    op.drop_table("report_target")
    op.drop_table("official_score")
