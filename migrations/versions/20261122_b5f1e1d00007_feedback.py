"""feedback (issue: see models/feedback.py)

Revision ID: b5f1e1d00007
Revises: b5f1e1d00006
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "b5f1e1d00007"
down_revision: str | None = "b5f1e1d00006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
