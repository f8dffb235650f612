"""重复诉求: repeat requests linked through the case links; a hotline case's address point

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 14:00:00

A new 12345 request of the same class near an open or recently closed request is linked to it
by the same case links as a possible duplicate, marked case_links.repeat (bounded: the few
nearest). reports.address_point_id keeps the address point (门牌) a call was placed at.
hot_spot_proposals: the 主动治理 hot spots of a month proposed to supervisors, each once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('case_links', sa.Column('repeat', sa.Boolean(), nullable=False,
                                          server_default=sa.false()))
    op.add_column('reports', sa.Column('address_point_id', sa.BigInteger(), nullable=True))
    op.create_foreign_key(op.f('fk_reports_address_point_id_address_points'), 'reports',
                          'address_points', ['address_point_id'], ['id'], ondelete='SET NULL')
    op.create_index('ix_reports_address_point_id', 'reports', ['address_point_id'],
                    postgresql_where=sa.text('address_point_id IS NOT NULL'))
    op.create_table(
        'hot_spot_proposals',
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('category_code', sa.String(length=8), nullable=False),
        sa.Column('area_code', sa.String(length=15), nullable=False),
        sa.Column('count', sa.BigInteger(), nullable=False),
        sa.Column('proposed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.ForeignKeyConstraint(['category_code'], ['categories.code'],
                                name=op.f('fk_hot_spot_proposals_category_code_categories'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['area_code'], ['areas.code'],
                                name=op.f('fk_hot_spot_proposals_area_code_areas'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('month', 'category_code', 'area_code',
                                name=op.f('pk_hot_spot_proposals')),
    )


def downgrade() -> None:
    op.drop_table('hot_spot_proposals')
    op.drop_index('ix_reports_address_point_id', table_name='reports')
    op.drop_constraint(op.f('fk_reports_address_point_id_address_points'), 'reports',
                       type_='foreignkey')
    op.drop_column('reports', 'address_point_id')
    op.drop_column('case_links', 'repeat')
