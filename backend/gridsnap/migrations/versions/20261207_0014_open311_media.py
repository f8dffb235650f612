"""Open311: the media_url a client posts with a request, stored and returned

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'open311_media',
        sa.Column('report_id', sa.UUID(), nullable=False),
        sa.Column('media_url', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.CheckConstraint('char_length(media_url) <= 2048',
                           name=op.f('ck_open311_media_media_url_length')),
        sa.CheckConstraint("media_url ~ '^https?://'", name=op.f('ck_open311_media_media_url_http')),
        sa.ForeignKeyConstraint(['report_id'], ['reports.id'],
                                name=op.f('fk_open311_media_report_id_reports'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('report_id', name=op.f('pk_open311_media')),
    )


def downgrade() -> None:
    op.drop_table('open311_media')
