"""client links: single-use sign-in links for people of a client organization; the people a task is for; pulses

Revision ID: 0018_client_links
Revises: 0017
Create Date: 2026-12-07 17:00:00

A link's secret is stored as its SHA-256 only. A task's assignees are the people who held its role when its phase
was entered. A pulse is one attendee's rating of a milestone (a kickoff, a pilot training, a quarter review).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018_client_links'
down_revision: str | None = '0018_health'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'client_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('created_by', sa.String(length=400), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_client_links_organization_id_organizations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_client_links_person_id_people'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_client_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_client_links_token_hash')),
    )
    op.create_index(op.f('ix_client_links_person_id'), 'client_links', ['person_id'], unique=False)
    op.create_table(
        'task_assignees',
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_task_assignees_person_id_people'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_assignees_task_id_tasks'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('task_id', 'person_id', name=op.f('pk_task_assignees')),
    )
    op.create_index(op.f('ix_task_assignees_person_id'), 'task_assignees', ['person_id'], unique=False)
    op.create_table(
        'pulses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('engagement_id', sa.Integer(), nullable=False),
        sa.Column('milestone', sa.String(length=64), nullable=False),
        sa.Column('record_kind', sa.String(length=16), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('held_on', sa.Date(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('rating', sa.Integer(), nullable=True),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['engagement_id'], ['engagements.id'],
                                name=op.f('fk_pulses_engagement_id_engagements'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_pulses_person_id_people'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pulses')),
        sa.UniqueConstraint('record_kind', 'record_id', 'person_id',
                            name=op.f('uq_pulses_record_kind_record_id_person_id')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_pulses_token_hash')),
    )
    op.create_index(op.f('ix_pulses_engagement_id'), 'pulses', ['engagement_id'], unique=False)
    op.create_index(op.f('ix_pulses_person_id'), 'pulses', ['person_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_pulses_person_id'), table_name='pulses')
    op.drop_index(op.f('ix_pulses_engagement_id'), table_name='pulses')
    op.drop_table('pulses')
    op.drop_index(op.f('ix_task_assignees_person_id'), table_name='task_assignees')
    op.drop_table('task_assignees')
    op.drop_index(op.f('ix_client_links_person_id'), table_name='client_links')
    op.drop_table('client_links')
