"""indexes for the keyset-paginated lists: users by role, feedback inbox by deadline, a round's sample and back-checks

Revision ID: b5f1e1d0000d
Revises: b5f1e1d0000c
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "b5f1e1d0000d"
down_revision: str | None = "b5f1e1d0000c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_app_user_role_username", "app_user", ["role", "username"], unique=False)
    op.create_index("ix_feedback_item_status_deadline_id", "feedback_item", ["status", "deadline", "id"], unique=False)
    op.create_index("ix_feedback_item_deadline_id", "feedback_item", ["deadline", "id"], unique=False)
    op.create_index("ix_sample_village_round_id_id", "sample_village", ["round_id", "id"], unique=False)
    op.create_index("ix_back_check_round_id_id", "back_check", ["round_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_back_check_round_id_id", table_name="back_check")
    op.drop_index("ix_sample_village_round_id_id", table_name="sample_village")
    op.drop_index("ix_feedback_item_deadline_id", table_name="feedback_item")
    op.drop_index("ix_feedback_item_status_deadline_id", table_name="feedback_item")
    op.drop_index("ix_app_user_role_username", table_name="app_user")
