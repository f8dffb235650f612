"""Possible duplicates: only a cluster's size is kept; a case's other links are counted when read

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 16:00:00

case_link_counts kept every case's links both ways, so that every new case of a hot spot
updated the counts of its primary and of its nearest (~7 rows). It now keeps only how many
later cases chose a case as their cluster's primary (primary_of: one row a report updates); a
case's own links (at most 6) and those of the later cases that have it among their nearest (a
few) are counted when read, in the index of the links to a case, now split by is_primary.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_case_links_other_id_primary_distance', 'case_links',
                    ['other_id', 'is_primary', 'distance_m'])
    op.drop_index('ix_case_links_other_id_distance', table_name='case_links')
    op.alter_column('case_link_counts', 'links', new_column_name='primary_of')
    op.execute("DELETE FROM case_link_counts")
    op.execute("""
        INSERT INTO case_link_counts (report_id, primary_of)
        SELECT other_id, count(*) FROM case_links WHERE is_primary GROUP BY other_id
    """)


def downgrade() -> None:
    op.alter_column('case_link_counts', 'primary_of', new_column_name='links')
    op.execute("DELETE FROM case_link_counts")
    op.execute("""
        INSERT INTO case_link_counts (report_id, links)
        SELECT id, count(*) FROM (SELECT report_id AS id FROM case_links
                                  UNION ALL SELECT other_id FROM case_links) AS ends
         GROUP BY id
    """)
    op.create_index('ix_case_links_other_id_distance', 'case_links', ['other_id', 'distance_m'])
    op.drop_index('ix_case_links_other_id_primary_distance', table_name='case_links')
