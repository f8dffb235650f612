"""A category's cases newest first, indexed

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-08 01:30:00

The case list filtered by category, newest first, walked the received-time index and skipped
every other category's case: page 1,000 of one category among a city's 10 million cases took
152 ms. ix_reports_category_received (category_code, received_at, id) replaces
ix_reports_category_code (category_code): read backwards it gives a category's page in the
list's order (newest first, then by id, both descending) from the index alone; the same number
of index entries a report writes, and every lookup by category still served by its first
column.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0028'
down_revision: str | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_reports_category_received', 'reports',
                    ['category_code', 'received_at', 'id'], unique=False)
    op.drop_index('ix_reports_category_code', table_name='reports')


def downgrade() -> None:
    op.create_index('ix_reports_category_code', 'reports', ['category_code'], unique=False)
    op.drop_index('ix_reports_category_received', table_name='reports')
