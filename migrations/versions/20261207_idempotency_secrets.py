"""Idempotency-Key records: no secret kept, no "running" state

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 09:00:00

A key's record is now written in the request's own transaction, so no record is "running" any more: those left
by a worker that died are deleted (their keys become free at once). A response that showed a secret (a calendar
feed URL, a webhook signing secret) is kept as "withheld": its status without its body, so that a replay answers
"shown once" instead of the secret. The records kept before this revision with such a body lose it here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What the bodies of those responses contain: the feed's webcal:// URL, a webhook secret's prefix.
_SHOWS_A_SECRET = {
    "postgresql": "position(convert_to('\"webcal_url\"', 'UTF8') in body) > 0 "
                  "OR position(convert_to('whsec_', 'UTF8') in body) > 0",
    "sqlite": "instr(body, CAST('\"webcal_url\"' AS BLOB)) > 0 OR instr(body, CAST('whsec_' AS BLOB)) > 0",
}


def upgrade() -> None:
    op.execute("DELETE FROM idempotency_records WHERE state = 'running'")
    shows_a_secret = _SHOWS_A_SECRET[op.get_bind().dialect.name]
    op.execute(f"UPDATE idempotency_records SET state = 'withheld', body = NULL WHERE {shows_a_secret}")
    with op.batch_alter_table("idempotency_records") as batch:
        batch.create_check_constraint(op.f("ck_idempotency_records_state"), sa.text("state IN ('done', 'withheld')"))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_records") as batch:
        batch.drop_constraint(op.f("ck_idempotency_records_state"), type_="check")
    # Before this revision a record without its body would be replayed empty: its key is freed instead.
    op.execute("DELETE FROM idempotency_records WHERE state = 'withheld'")
