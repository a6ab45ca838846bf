"""kiosk: desk tablets paired with a reception point, and the responses they synced

Revision ID: b5f1e1d0000a
Revises: b5f1e1d00008
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b5f1e1d0000a"
down_revision: str | None = "b5f1e1d00008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kiosk_device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("slug", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("pairing_version", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["app_user.id"], name=op.f("fk_kiosk_device_created_by_id_app_user"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["point_id"], ["reception_point.id"],
                                name=op.f("fk_kiosk_device_point_id_reception_point"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosk_device")),
        sa.UniqueConstraint("slug", name=op.f("uq_kiosk_device_slug")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_kiosk_device_token_hash")),
    )
    with op.batch_alter_table("kiosk_device", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kiosk_device_point_id"), ["point_id"], unique=False)
    op.create_table(
        "kiosk_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("kiosk_id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["kiosk_id"], ["kiosk_device.id"], name=op.f("fk_kiosk_submission_kiosk_id_kiosk_device"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["response_id"], ["response.id"], name=op.f("fk_kiosk_submission_response_id_response"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosk_submission")),
        sa.UniqueConstraint("response_id", name=op.f("uq_kiosk_submission_response_id")),
        sa.UniqueConstraint("uuid", name=op.f("uq_kiosk_submission_uuid")),
    )
    with op.batch_alter_table("kiosk_submission", schema=None) as batch_op:
        batch_op.create_index("ix_kiosk_submission_kiosk_ended", ["kiosk_id", "ended_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("kiosk_submission", schema=None) as batch_op:
        batch_op.drop_index("ix_kiosk_submission_kiosk_ended")
    op.drop_table("kiosk_submission")
    with op.batch_alter_table("kiosk_device", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kiosk_device_point_id"))
    op.drop_table("kiosk_device")
