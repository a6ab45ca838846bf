"""ix_response_interviewer_id only over interviews (interviewer_id IS NOT NULL)

Citizens' responses, most of the table, have no interviewer; a full index kept an entry for each (6.5 MB
per million on PostgreSQL, where B-tree deduplication packs the NULLs) and cost one more index write per
citizen submission. Its one reader is the foreign key's ON DELETE SET NULL, whose "interviewer_id = $1"
the partial index still serves (EXPLAIN: Index Scan using ix_response_interviewer_id).

Revision ID: b5f1e1d00011
Revises: b5f1e1d00010
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b5f1e1d00011"
down_revision: str | None = "b5f1e1d00010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHERE = sa.text("interviewer_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_response_interviewer_id", table_name="response")
    op.create_index("ix_response_interviewer_id", "response", ["interviewer_id"], unique=False,
                    postgresql_where=_WHERE, sqlite_where=_WHERE)


def downgrade() -> None:
    op.drop_index("ix_response_interviewer_id", table_name="response")
    op.create_index("ix_response_interviewer_id", "response", ["interviewer_id"], unique=False)
