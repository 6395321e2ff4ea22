"""waves: expansion waves, their tasks, a training session's trainer, an engagement handed over

Revision ID: 0018_waves
Revises: 0017
Create Date: 2026-12-07 17:00:00

A wave is a named set of departments that runs the playbook's wave journey after the pilot, with its own phase.
Its tasks are rows of ``tasks`` with ``wave_id`` set: the engagement's tasks stay unique per phase, key and round
among those of no wave, a wave's within its wave. A training session may name its trainer (the external coach or
a person of the organization), and an engagement records when it was handed over to the internal coaches.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0018_waves'
down_revision: str | None = '0018_client_links'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
NO_WAVE = sa.text('wave_id IS NULL')


def upgrade() -> None:
    op.create_table(
        'waves',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('engagement_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('variant', sa.String(length=64), nullable=True),
        sa.Column('department_ids', _JSON, nullable=False),
        sa.Column('owner_ids', _JSON, nullable=False),
        sa.Column('phase', sa.String(length=64), nullable=False),
        sa.Column('entered_phase_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['engagement_id'], ['engagements.id'], name=op.f('fk_waves_engagement_id_engagements'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_waves')),
        sa.UniqueConstraint('engagement_id', 'name', name=op.f('uq_waves_engagement_id_name')),
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wave_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_tasks_wave_id_waves'), 'waves', ['wave_id'], ['id'],
                                    ondelete='CASCADE')
        batch_op.drop_constraint('uq_tasks_engagement_id_phase_task_key_round', type_='unique')
    op.create_index('uq_tasks_engagement_id_phase_task_key_round', 'tasks',
                    ['engagement_id', 'phase', 'task_key', 'round'], unique=True,
                    sqlite_where=NO_WAVE, postgresql_where=NO_WAVE)
    op.create_index('uq_tasks_wave_id_phase_task_key_round', 'tasks', ['wave_id', 'phase', 'task_key', 'round'],
                    unique=True)
    with op.batch_alter_table('training_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trainer_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_training_sessions_trainer_id_people'), 'people', ['trainer_id'],
                                    ['id'])
    with op.batch_alter_table('engagements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handed_over_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('engagements', schema=None) as batch_op:
        batch_op.drop_column('handed_over_at')
    with op.batch_alter_table('training_sessions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_training_sessions_trainer_id_people'), type_='foreignkey')
        batch_op.drop_column('trainer_id')
    op.execute('DELETE FROM tasks WHERE wave_id IS NOT NULL')
    op.drop_index('uq_tasks_wave_id_phase_task_key_round', table_name='tasks')
    op.drop_index('uq_tasks_engagement_id_phase_task_key_round', table_name='tasks')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_tasks_engagement_id_phase_task_key_round',
                                          ['engagement_id', 'phase', 'task_key', 'round'])
        batch_op.drop_constraint(batch_op.f('fk_tasks_wave_id_waves'), type_='foreignkey')
        batch_op.drop_column('wave_id')
    op.drop_table('waves')
