"""drop ix_response_point_submitted: nothing reads responses by point and time any more

Since b5f1e1d0000f every per-point question starts from a device, network or answers hash (their indexes
carry the point); reports read sums, exports read periods and communes. The index only gave the planner a
wrong path to take (b5f1e1d0000f) and cost one more index write per response and 40 MB per million
responses (measured with random points and times). Reception points are revoked, never deleted, so the
foreign key from response needs no index.

Revision ID: b5f1e1d00010
Revises: b5f1e1d0000f
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "b5f1e1d00010"
down_revision: str | None = "b5f1e1d0000f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_response_point_submitted", table_name="response")


def downgrade() -> None:
    op.create_index("ix_response_point_submitted", "response", ["reception_point_id", "submitted_at"], unique=False)
