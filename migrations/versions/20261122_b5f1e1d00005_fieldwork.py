"""fieldwork (issue: see models/fieldwork.py)

Revision ID: b5f1e1d00005
Revises: 671ab7c4ccef
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "b5f1e1d00005"
down_revision: str | None = "671ab7c4ccef"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
