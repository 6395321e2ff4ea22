"""e-mail digests: each person's delivery preference, and one digest per person and period

Revision ID: 0018_digests
Revises: 0017
Create Date: 2026-12-07 17:00:00

``people`` gains how e-mail reaches the person (``email_digest``: immediate, daily or weekly; daily for everyone
already there), a quiet-hours window and an own timezone. ``notifications`` gains ``digest_key``, the period a
digest e-mail tells (unique per person and channel: two runs never send the same period's digest twice).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018_digests'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_digest', sa.String(length=16), server_default='daily', nullable=False))
        batch_op.add_column(sa.Column('quiet_from_hour', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('quiet_until_hour', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest_key', sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_notifications_person_id_channel_digest_key'),
                                          ['person_id', 'channel', 'digest_key'])


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_notifications_person_id_channel_digest_key'), type_='unique')
        batch_op.drop_column('digest_key')
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_column('timezone')
        batch_op.drop_column('quiet_until_hour')
        batch_op.drop_column('quiet_from_hour')
        batch_op.drop_column('email_digest')
