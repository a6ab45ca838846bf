"""the device index carries the reception point: "did this device answer here lately?" in one range

With (device_hash, submitted_at) beside (reception_point_id, submitted_at), PostgreSQL working from
statistics older than a busy day chose the point's index and filtered every response at that point
within the device window (benchmarks/submit.py: 5,000 rows read per citizen form and per submission).

Revision ID: b5f1e1d0000f
Revises: b5f1e1d0000e
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "b5f1e1d0000f"
down_revision: str | None = "b5f1e1d0000e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_response_device_point_submitted", "response",
                    ["device_hash", "reception_point_id", "submitted_at"], unique=False)
    op.drop_index("ix_response_device_submitted", table_name="response")


def downgrade() -> None:
    op.create_index("ix_response_device_submitted", "response", ["device_hash", "submitted_at"], unique=False)
    op.drop_index("ix_response_device_point_submitted", table_name="response")
