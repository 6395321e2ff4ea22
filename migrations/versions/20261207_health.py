"""health: each engagement's health kept beside its readiness

Revision ID: 0018_health
Revises: 0017
Create Date: 2026-12-07 17:00:00

The readiness snapshots gain the engagement's health status (stuck, at_risk, ready_to_move, on_track; NULL until
first evaluated), which the portfolio sorts and filters on, and the signals that decided it, with their reasons.
Every snapshot is marked stale so that the scheduler evaluates health once after the upgrade.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0018_health'
down_revision: str | None = '0018_digests'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('readiness_snapshots') as batch:
        batch.add_column(sa.Column('health', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('health_reasons', _JSON, nullable=False, server_default='[]'))
    op.create_index('ix_readiness_snapshots_health', 'readiness_snapshots', ['health'], unique=False)
    op.execute(sa.text("UPDATE readiness_snapshots SET stale = :stale").bindparams(stale=True))


def downgrade() -> None:
    op.drop_index('ix_readiness_snapshots_health', table_name='readiness_snapshots')
    with op.batch_alter_table('readiness_snapshots') as batch:
        batch.drop_column('health_reasons')
        batch.drop_column('health')
