"""The outbox's work lists without the messages scheduled for later

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 20:00:00

ix_outbox_pending (every message not sent and not done) held the deadline check that each
routed case schedules for later, so the relay's claim, ordered by id, walked one entry per
open case on every call (5 a second when idle), and /health's backlog count read them all
too. Now: ix_outbox_ready, the messages to be sent at once (no available_at), read in id
order; ix_outbox_due, the scheduled ones by available_at (ix_outbox_available_at less the
failed), read up to now; and ix_outbox_troubled, the messages not done that failed or wait
after an error, which /health counts (failed, postponed) due or not.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0025'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_outbox_ready', 'outbox', ['id'], unique=False, postgresql_where=(
        'enqueued_at IS NULL AND done_at IS NULL AND failed_at IS NULL AND available_at IS NULL'))
    op.create_index('ix_outbox_due', 'outbox', ['available_at'], unique=False, postgresql_where=(
        'enqueued_at IS NULL AND done_at IS NULL AND failed_at IS NULL'
        ' AND available_at IS NOT NULL'))
    op.create_index('ix_outbox_troubled', 'outbox', ['id'], unique=False, postgresql_where=(
        'done_at IS NULL AND (failed_at IS NOT NULL OR last_error IS NOT NULL)'))
    op.drop_index('ix_outbox_pending', table_name='outbox')
    op.drop_index('ix_outbox_available_at', table_name='outbox')


def downgrade() -> None:
    op.create_index('ix_outbox_pending', 'outbox', ['id'], unique=False,
                    postgresql_where='enqueued_at IS NULL AND done_at IS NULL')
    op.create_index('ix_outbox_available_at', 'outbox', ['available_at'], unique=False,
                    postgresql_where=('enqueued_at IS NULL AND done_at IS NULL'
                                      ' AND available_at IS NOT NULL'))
    op.drop_index('ix_outbox_troubled', table_name='outbox')
    op.drop_index('ix_outbox_due', table_name='outbox')
    op.drop_index('ix_outbox_ready', table_name='outbox')
