"""indexes for the audit trail filtered by action or by actor, newest first (keyset on id)

Revision ID: b5f1e1d0000e
Revises: b5f1e1d0000d
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "b5f1e1d0000e"
down_revision: str | None = "b5f1e1d0000d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_audit_event_action_id", "audit_event", ["action", "id"], unique=False)
    op.create_index("ix_audit_event_actor_id", "audit_event", ["actor", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_event_actor_id", table_name="audit_event")
    op.drop_index("ix_audit_event_action_id", table_name="audit_event")
