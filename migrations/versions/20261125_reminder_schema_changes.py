"""reminder schema changes: the scheduler's last run time

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'scheduler_state',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_state')),
    )


def downgrade() -> None:
    op.drop_table('scheduler_state')
