"""sign-in throttles: counters per account, client address and known browser, replacing a row per failure

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 09:00:00

A counter row per (kind, key, quarter hour) is taken or refused by one conditional upsert, so concurrent
sign-ins cannot all read "under the limit" and all go on (they did on PostgreSQL). The old failures are
throttle state only: they are dropped, not carried over.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'sign_in_throttles',
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('slot_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('kind', 'key', 'slot_start', name=op.f('pk_sign_in_throttles')),
    )
    op.create_index('ix_sign_in_throttles_slot_start', 'sign_in_throttles', ['slot_start'], unique=False)
    op.drop_index('ix_sign_in_failures_email_failed_at', table_name='sign_in_failures')
    op.drop_table('sign_in_failures')


def downgrade() -> None:
    op.create_table(
        'sign_in_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failures')),
    )
    op.create_index('ix_sign_in_failures_email_failed_at', 'sign_in_failures', ['email', 'failed_at'], unique=False)
    op.drop_index('ix_sign_in_throttles_slot_start', table_name='sign_in_throttles')
    op.drop_table('sign_in_throttles')
