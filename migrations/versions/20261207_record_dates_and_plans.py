"""record dates and plans: dates that belong to a quarter, an OKR and a decision; meetings and training
sessions that are planned, held or cancelled; who a meeting counts for

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    # Every meeting and training session recorded so far was held.
    with op.batch_alter_table("meetings") as batch:
        batch.add_column(sa.Column("status", sa.String(length=16), nullable=False, server_default="held"))
        batch.add_column(sa.Column("counts_for_ids", JSON, nullable=True))
    with op.batch_alter_table("training_sessions") as batch:
        batch.add_column(sa.Column("status", sa.String(length=16), nullable=False, server_default="held"))
    with op.batch_alter_table("quarters") as batch:
        batch.add_column(sa.Column("recorded_on", sa.Date(), nullable=True))
    with op.batch_alter_table("okrs") as batch:
        batch.add_column(sa.Column("prepared_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("decided_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("okrs") as batch:
        batch.drop_column("decided_on")
        batch.drop_column("prepared_on")
    with op.batch_alter_table("quarters") as batch:
        batch.drop_column("recorded_on")
    with op.batch_alter_table("training_sessions") as batch:
        batch.drop_column("status")
    with op.batch_alter_table("meetings") as batch:
        batch.drop_column("counts_for_ids")
        batch.drop_column("status")
