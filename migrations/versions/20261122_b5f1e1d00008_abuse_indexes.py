"""indexes for the abuse detectors (measured: a device-burst count scanned the whole table)

Revision ID: b5f1e1d00008
Revises: b5f1e1d00007
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "b5f1e1d00008"
down_revision: str | None = "b5f1e1d00007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.create_index("ix_response_device_submitted", ["device_hash", "submitted_at"], unique=False)
        batch_op.create_index(
            "ix_response_network_point_submitted", ["network_hash", "reception_point_id", "submitted_at"], unique=False
        )
        batch_op.create_index(
            "ix_response_answers_point_submitted", ["answers_hash", "reception_point_id", "submitted_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_index("ix_response_answers_point_submitted")
        batch_op.drop_index("ix_response_network_point_submitted")
        batch_op.drop_index("ix_response_device_submitted")
