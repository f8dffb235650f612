"""stats: campaigns (专项) and their cases; indexes the evaluation reads through

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('campaigns',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('category_code', sa.String(length=8), nullable=False),
    sa.Column('area_prefix', sa.String(length=15), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("area_prefix ~ '^[0-9]{0,15}$'", name=op.f('ck_campaigns_area_prefix_digits')),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_campaigns_ends_after_start')),
    sa.CheckConstraint('char_length(name) BETWEEN 1 AND 200', name=op.f('ck_campaigns_name_length')),
    sa.ForeignKeyConstraint(['category_code'], ['categories.code'], name=op.f('fk_campaigns_category_code_categories'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_campaigns_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    op.create_table('campaign_cases',
    sa.Column('campaign_id', sa.BigInteger(), nullable=False),
    sa.Column('report_id', sa.UUID(), nullable=False),
    sa.Column('linked_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_cases_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_campaign_cases_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'report_id', name=op.f('pk_campaign_cases'))
    )
    op.create_index('ix_campaign_cases_report_id', 'campaign_cases', ['report_id'], unique=False)
    op.create_index('ix_reports_accepted_at', 'reports', ['accepted_at'], unique=False)
    op.create_index('ix_reports_received_at', 'reports', ['received_at'], unique=False)
    op.create_index('ix_case_events_at', 'case_events', ['at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_case_events_at', table_name='case_events')
    op.drop_index('ix_reports_received_at', table_name='reports')
    op.drop_index('ix_reports_accepted_at', table_name='reports')
    op.drop_index('ix_campaign_cases_report_id', table_name='campaign_cases')
    op.drop_table('campaign_cases')
    op.drop_table('campaigns')
