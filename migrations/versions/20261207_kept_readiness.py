"""kept readiness: each engagement's readiness stored and kept current, its next change and next reminder

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 14:00:00

The readiness snapshots gain the summary pages sort and filter on (the next gate met or not, its failed
criteria, how many pass), a stale mark with a count of marks, and the times of the next change the clock
alone brings and of the next reminder. Every engagement gets a row, marked stale: the scheduler evaluates
them all once, in batches, after the upgrade.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('readiness_snapshots') as batch:
        batch.add_column(sa.Column('gate_met', sa.Boolean(), nullable=True))
        batch.add_column(sa.Column('failed_criteria', _JSON, nullable=False, server_default='[]'))
        batch.add_column(sa.Column('gate_passed', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('gate_total', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('evaluated_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('stale', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column('marks', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('next_change_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('next_reminder_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_readiness_snapshots_stale', 'readiness_snapshots', ['stale'], unique=False)
    op.create_index('ix_readiness_snapshots_next_change_at', 'readiness_snapshots', ['next_change_at'], unique=False)
    op.create_index('ix_readiness_snapshots_next_reminder_at', 'readiness_snapshots', ['next_reminder_at'],
                    unique=False)
    # Snapshots already taken keep their digest, so re-evaluating them records only real changes.
    op.execute(sa.text("UPDATE readiness_snapshots SET stale = :stale").bindparams(stale=True))
    op.execute(sa.text(
        "INSERT INTO readiness_snapshots (engagement_id, phase, digest, summary, updated_at, failed_criteria, "
        "gate_passed, gate_total, stale, marks) "
        "SELECT e.id, '', '', :empty_summary, e.updated_at, :empty_list, 0, 0, :stale, 0 FROM engagements e "
        "WHERE NOT EXISTS (SELECT 1 FROM readiness_snapshots r WHERE r.engagement_id = e.id)",
    ).bindparams(sa.bindparam('empty_summary', {}, type_=_JSON), sa.bindparam('empty_list', [], type_=_JSON),
                 stale=True))


def downgrade() -> None:
    op.drop_index('ix_readiness_snapshots_next_reminder_at', table_name='readiness_snapshots')
    op.drop_index('ix_readiness_snapshots_next_change_at', table_name='readiness_snapshots')
    op.drop_index('ix_readiness_snapshots_stale', table_name='readiness_snapshots')
    op.execute(sa.text("DELETE FROM readiness_snapshots WHERE digest = ''"))
    with op.batch_alter_table('readiness_snapshots') as batch:
        for column in ('next_reminder_at', 'next_change_at', 'marks', 'stale', 'evaluated_at', 'gate_total',
                       'gate_passed', 'failed_criteria', 'gate_met'):
            batch.drop_column(column)
