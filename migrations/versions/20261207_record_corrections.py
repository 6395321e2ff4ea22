"""records a coach can correct and void; quarters closed by their decisions

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 14:00:00

Every record table gets ``voided_at``, ``voided_by`` and ``void_reason``: a voided record stays (the history and
the webhooks name it) and no gate counts it. CEO support statements and check-ins get the ``version`` the other
records have, so a correction can be sent with ``If-Match``. ``quarters.closed_at`` marks a quarter whose OKRs are
all decided. An appointment is unique per person and role among the appointments not voided, so a voided one
does not block appointing that person again.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORD_TABLES = ('meetings', 'ceo_support_statements', 'training_sessions', 'drafting_groups', 'appointments',
                 'quarters', 'okrs', 'key_results', 'check_ins')
VERSIONED_NOW = ('ceo_support_statements', 'check_ins')
NOT_VOIDED = sa.text('voided_at IS NULL')


def upgrade() -> None:
    for table in RECORD_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True))
            batch_op.add_column(sa.Column('voided_by', sa.String(length=200), nullable=True))
            batch_op.add_column(sa.Column('void_reason', sa.Text(), nullable=True))
            if table in VERSIONED_NOW:
                batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
            if table == 'quarters':
                batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
    for table in VERSIONED_NOW:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('version', server_default=None)
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_constraint('uq_appointments_engagement_id_person_id_role', type_='unique')
    op.create_index('uq_appointments_engagement_id_person_id_role', 'appointments',
                    ['engagement_id', 'person_id', 'role'], unique=True,
                    sqlite_where=NOT_VOIDED, postgresql_where=NOT_VOIDED)
    # Quarters whose OKRs are all decided already are closed.
    op.execute(
        "UPDATE quarters SET closed_at = (SELECT max(okrs.decided_at) FROM okrs WHERE okrs.quarter_id = quarters.id) "
        "WHERE EXISTS (SELECT 1 FROM okrs WHERE okrs.quarter_id = quarters.id) "
        "AND NOT EXISTS (SELECT 1 FROM okrs WHERE okrs.quarter_id = quarters.id AND okrs.decision IS NULL)")


def downgrade() -> None:
    op.drop_index('uq_appointments_engagement_id_person_id_role', table_name='appointments')
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_appointments_engagement_id_person_id_role',
                                          ['engagement_id', 'person_id', 'role'])
    for table in reversed(RECORD_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            if table == 'quarters':
                batch_op.drop_column('closed_at')
            if table in VERSIONED_NOW:
                batch_op.drop_column('version')
            batch_op.drop_column('void_reason')
            batch_op.drop_column('voided_by')
            batch_op.drop_column('voided_at')
