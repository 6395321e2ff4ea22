"""drop two indexes their table's unique constraint already covers

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 07:30:00

``tasks (engagement_id)`` is the leading column of ``uq_tasks_engagement_id_phase_task_key_round``, and
``checklist_items (task_id)`` that of ``uq_checklist_items_task_id_item_key``: every lookup (and the foreign
keys' cascades) can use the unique index, and each transition no longer writes two more index pages.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_index("ix_tasks_engagement_id")
    with op.batch_alter_table("checklist_items") as batch:
        batch.drop_index("ix_checklist_items_task_id")


def downgrade() -> None:
    with op.batch_alter_table("checklist_items") as batch:
        batch.create_index("ix_checklist_items_task_id", ["task_id"])
    with op.batch_alter_table("tasks") as batch:
        batch.create_index("ix_tasks_engagement_id", ["engagement_id"])
