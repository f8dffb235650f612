"""The overdue cases, indexed

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-08 00:30:00

The case list's and the map's "overdue" filter read `reports.overdue`, which no index held: at
a city's size (10 million cases, a few thousand overdue at any time) every such list or tile
scanned the whole table. ix_reports_overdue holds the overdue cases only, newest first.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0026'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_reports_overdue', 'reports', ['received_at'], unique=False,
                    postgresql_where='overdue')


def downgrade() -> None:
    op.drop_index('ix_reports_overdue', table_name='reports')
