"""playbook version schema changes: tasks and checklist items closed as obsolete by a migration

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 01:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('obsolete_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('checklist_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('obsolete_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('checklist_items', schema=None) as batch_op:
        batch_op.drop_column('obsolete_at')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_column('obsolete_at')
