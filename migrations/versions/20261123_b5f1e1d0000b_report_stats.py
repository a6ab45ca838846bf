"""report stats: materialised sufficient statistics per month × cell, and the queue of pending responses (filled by a trigger)

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
        sa.Column("w", sa.Float(), nullable=False),
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
    op.create_table(
        "report_pending",
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["response_id"], ["response.id"], name=op.f("fk_report_pending_response_id_response"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("response_id", name=op.f("pk_report_pending")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Statement-level with a transition table: one INSERT … SELECT per statement, cheap for bulk loads.
        op.execute("""
            CREATE FUNCTION report_pending_add() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO report_pending (response_id) SELECT id FROM new_rows ON CONFLICT DO NOTHING;
                RETURN NULL;
            END $$""")
        op.execute("""
            CREATE TRIGGER tr_response_report_pending AFTER INSERT ON response
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_pending_add()""")
    else:
        op.execute("""
            CREATE TRIGGER tr_response_report_pending AFTER INSERT ON response
            BEGIN INSERT OR IGNORE INTO report_pending (response_id) VALUES (NEW.id); END""")
    # Responses stored before this revision are pending too.
    op.execute("INSERT INTO report_pending (response_id) SELECT id FROM response")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS tr_response_report_pending" + (
        " ON response" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS report_pending_add()")
    op.drop_table("report_pending")
    op.drop_table("report_stat_state")
    op.drop_table("report_cell_stat")
    op.drop_table("report_cell")
