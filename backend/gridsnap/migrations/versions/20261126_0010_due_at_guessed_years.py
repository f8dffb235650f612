"""reports.due_at_guessed_years: a deadline counted over a year without a holiday notice

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-26 13:00:00

A running deadline stored before this column existed is marked with the years from its stage's
start to its due time (local years) from 2027 on: 2027 was the first year the `holidays`
library did not cover when this was written. That is conservative (a limit in natural hours
reads no calendar); `gridsnap deadlines recompute` counts them again on the data in use and
clears the mark where it does not apply.
"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0010'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIRST_UNCOVERED_YEAR = 2027


def upgrade() -> None:
    op.add_column('reports', sa.Column('due_at_guessed_years',
                                       postgresql.ARRAY(sa.SmallInteger()), nullable=True))
    op.execute(sa.text("""
        UPDATE reports r SET due_at_guessed_years = y.years
          FROM (SELECT id, ARRAY(
                    SELECT generate_series(
                        greatest(extract(year FROM stage_started_at AT TIME ZONE :tz)::int,
                                 :first),
                        extract(year FROM due_at AT TIME ZONE :tz)::int))::smallint[] AS years
                  FROM reports
                 WHERE stage IS NOT NULL AND due_at IS NOT NULL
                   AND stage_started_at IS NOT NULL
                   AND extract(year FROM due_at AT TIME ZONE :tz) >= :first) y
         WHERE r.id = y.id AND cardinality(y.years) > 0
    """).bindparams(tz=os.environ.get('GRIDSNAP_TIMEZONE') or 'Asia/Shanghai',
                    first=FIRST_UNCOVERED_YEAR))
    op.create_index('ix_reports_estimated_due', 'reports', ['due_at'], unique=False,
                    postgresql_where='due_at_guessed_years IS NOT NULL AND stage IS NOT NULL')


def downgrade() -> None:
    op.drop_index('ix_reports_estimated_due', table_name='reports',
                  postgresql_where='due_at_guessed_years IS NOT NULL AND stage IS NOT NULL')
    op.drop_column('reports', 'due_at_guessed_years')
