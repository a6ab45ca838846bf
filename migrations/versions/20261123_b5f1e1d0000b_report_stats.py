"""report stats: materialised sufficient statistics per month × cell, and the pending marker on responses

Revision ID: b5f1e1d0000b
Revises: b5f1e1d0000a
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b5f1e1d0000b"
down_revision: str | None = "b5f1e1d0000a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_cell",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("commune_id", sa.Integer(), nullable=False),
        sa.Column("sector", sa.String(length=30), nullable=False),
        sa.Column("mode", sa.String(length=12), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("stratum", sa.String(length=60), nullable=False),
        sa.Column("psu", sa.String(length=60), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["commune_id"], ["commune.id"], name=op.f("fk_report_cell_commune_id_commune")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_cell")),
        sa.UniqueConstraint("month", "commune_id", "sector", "mode", "point_id", "stratum", "psu", "flagged",
                            name="uq_report_cell_key"),
    )
    op.create_table(
        "report_cell_stat",
        sa.Column("cell_id", sa.Integer(), nullable=False),
        sa.Column("stat", sa.String(length=80), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("w", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["cell_id"], ["report_cell.id"], name=op.f("fk_report_cell_stat_cell_id_report_cell"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("cell_id", "stat", name=op.f("pk_report_cell_stat")),
    )
    op.create_table(
        "report_stat_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_stat_state")),
    )
    with op.batch_alter_table("response") as batch:
        batch.add_column(sa.Column("report_aggregated", sa.Boolean(), server_default="0", nullable=False))
    op.create_index("ix_response_report_pending", "response", ["id"], unique=False,
                    postgresql_where=sa.text("report_aggregated = false"), sqlite_where=sa.text("report_aggregated = 0"))


def downgrade() -> None:
    op.drop_index("ix_response_report_pending", table_name="response")
    with op.batch_alter_table("response") as batch:
        batch.drop_column("report_aggregated")
    op.drop_table("report_stat_state")
    op.drop_table("report_cell_stat")
    op.drop_table("report_cell")
