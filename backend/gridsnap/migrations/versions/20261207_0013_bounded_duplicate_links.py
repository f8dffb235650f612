"""Possible duplicates bounded: the cluster's primary link, a count per case, an open-case index

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 09:00:00

A new case is linked to the earliest open case of its class nearby (its cluster's primary,
case_links.is_primary) and to the few nearest, no longer to every one: a hot spot costs what a
quiet street costs. case_link_counts keeps how many links each case has (both ways), filled
from the links made so far. The nearest of a case's links are read by
(other_id, distance_m); open cases are found by a partial spatial index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status NOT IN ('closed', 'rejected', 'duplicate')"


def upgrade() -> None:
    op.add_column('case_links', sa.Column('is_primary', sa.Boolean(), nullable=False,
                                          server_default=sa.false()))
    op.drop_index('ix_case_links_other_id', table_name='case_links')
    op.create_index('ix_case_links_other_id_distance', 'case_links', ['other_id', 'distance_m'])
    op.create_table(
        'case_link_counts',
        sa.Column('report_id', sa.UUID(), nullable=False),
        sa.Column('links', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['report_id'], ['reports.id'],
                                name=op.f('fk_case_link_counts_report_id_reports'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('report_id', name=op.f('pk_case_link_counts')),
    )
    op.execute("""
        INSERT INTO case_link_counts (report_id, links)
        SELECT id, count(*) FROM (SELECT report_id AS id FROM case_links
                                  UNION ALL SELECT other_id FROM case_links) AS ends
         GROUP BY id
    """)
    op.create_index('ix_reports_open_location', 'reports', ['location'],
                    postgresql_using='gist', postgresql_where=sa.text(OPEN))


def downgrade() -> None:
    op.drop_index('ix_reports_open_location', table_name='reports')
    op.drop_table('case_link_counts')
    op.drop_index('ix_case_links_other_id_distance', table_name='case_links')
    op.create_index('ix_case_links_other_id', 'case_links', ['other_id'])
    op.drop_column('case_links', 'is_primary')
