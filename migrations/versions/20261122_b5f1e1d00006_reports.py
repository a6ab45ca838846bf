"""reports (issue: see models/reports.py)

Revision ID: b5f1e1d00006
Revises: b5f1e1d00005
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "b5f1e1d00006"
down_revision: str | None = "b5f1e1d00005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
