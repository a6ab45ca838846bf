"""indexes chosen from the 10M-row query plans: period range for raw exports, flag review keyset

Revision ID: b5f1e1d0000c
Revises: b5f1e1d0000b
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "b5f1e1d0000c"
down_revision: str | None = "b5f1e1d0000b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_response_submitted_id", "response", ["submitted_at", "id"], unique=False)
    op.create_index("ix_response_flag_status_id", "response_flag", ["status", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_response_flag_status_id", table_name="response_flag")
    op.drop_index("ix_response_submitted_id", table_name="response")
