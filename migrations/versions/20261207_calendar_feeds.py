"""a person's calendar feeds in their own table: several per person, each revoked on its own

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 09:00:00

The one secret a person had (``people.calendar_token``, a SHA-256) moves to ``calendar_feeds``, so issuing a
new feed URL no longer cuts the subscriptions made with an earlier one. A downgrade keeps each person's latest
feed, the one the old schema can hold.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'calendar_feeds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_calendar_feeds_person_id_people'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_feeds')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_calendar_feeds_token_hash')),
    )
    with op.batch_alter_table('calendar_feeds') as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_feeds_person_id'), ['person_id'], unique=False)
    op.execute("INSERT INTO calendar_feeds (person_id, token_hash, created_at) "
               "SELECT id, calendar_token, created_at FROM people WHERE calendar_token IS NOT NULL")
    with op.batch_alter_table('people') as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_people_calendar_token'), type_='unique')
        batch_op.drop_column('calendar_token')


def downgrade() -> None:
    with op.batch_alter_table('people') as batch_op:
        batch_op.add_column(sa.Column('calendar_token', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_people_calendar_token'), ['calendar_token'])
    op.execute("UPDATE people SET calendar_token = (SELECT token_hash FROM calendar_feeds "
               "WHERE calendar_feeds.person_id = people.id ORDER BY calendar_feeds.id DESC LIMIT 1)")
    with op.batch_alter_table('calendar_feeds') as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_feeds_person_id'))
    op.drop_table('calendar_feeds')
