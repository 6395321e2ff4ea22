"""installation id; webhook subscription ids never reused on SQLite

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 09:00:00

``installation`` holds one row, the id of this installation, made on first use (calendar UIDs carry it, so two
installations' feeds never merge in a calendar client).

On SQLite ``webhook_subscriptions`` is rebuilt with AUTOINCREMENT, and its sequence starts past every id the
history has ever handed out (``webhook.created`` events), so a deleted subscription's id is never given to a
new one. Rebuilding the table drops it; with foreign keys on, that deletes its attempts by cascade, so they are
kept aside and put back. PostgreSQL's sequences never reuse an id: nothing to do there.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rebuild_subscriptions(*, autoincrement: bool) -> None:
    op.execute("CREATE TEMP TABLE kept_webhook_attempts AS SELECT * FROM webhook_attempts")
    with op.batch_alter_table('webhook_subscriptions', recreate='always',
                              table_kwargs={'sqlite_autoincrement': autoincrement}):
        pass
    op.execute("DELETE FROM webhook_attempts")
    op.execute("INSERT INTO webhook_attempts SELECT * FROM kept_webhook_attempts")
    op.execute("DROP TABLE kept_webhook_attempts")


def upgrade() -> None:
    op.create_table(
        'installation',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('installation_id', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_installation')),
    )
    if op.get_bind().dialect.name != 'sqlite':
        return
    _rebuild_subscriptions(autoincrement=True)
    # The highest id ever handed out: a live subscription's, or a deleted one's as its creation event tells.
    op.execute(
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'webhook_subscriptions', 0 WHERE NOT EXISTS "
        "(SELECT 1 FROM sqlite_sequence WHERE name = 'webhook_subscriptions')")
    op.execute(
        "UPDATE sqlite_sequence SET seq = max(seq, "
        "coalesce((SELECT max(id) FROM webhook_subscriptions), 0), "
        "coalesce((SELECT max(CAST(json_extract(payload, '$.subscription_id') AS INTEGER)) FROM events "
        "WHERE type = 'webhook.created'), 0)) WHERE name = 'webhook_subscriptions'")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild_subscriptions(autoincrement=False)
    op.drop_table('installation')
