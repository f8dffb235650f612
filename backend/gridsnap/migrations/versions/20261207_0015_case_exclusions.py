"""不合理诉求 and 申诉: case_exclusions (a unit asks, the centre decides, the trail kept)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'case_exclusions',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('report_id', sa.UUID(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('reason_kind', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('department_code', sa.String(length=40), nullable=True),
        sa.Column('requested_by_id', sa.BigInteger(), nullable=False),
        sa.Column('status', sa.String(length=10), server_default='pending', nullable=False),
        sa.Column('decided_by_id', sa.BigInteger(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decision_note', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.CheckConstraint("kind IN ('exclusion', 'appeal')",
                           name=op.f('ck_case_exclusions_kind_known')),
        sa.CheckConstraint("status IN ('pending', 'approved', 'refused')",
                           name=op.f('ck_case_exclusions_status_known')),
        sa.CheckConstraint('char_length(reason) BETWEEN 1 AND 2000',
                           name=op.f('ck_case_exclusions_reason_length')),
        sa.ForeignKeyConstraint(['report_id'], ['reports.id'],
                                name=op.f('fk_case_exclusions_report_id_reports'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['department_code'], ['departments.code'],
                                name=op.f('fk_case_exclusions_department_code_departments'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'],
                                name=op.f('fk_case_exclusions_requested_by_id_users'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'],
                                name=op.f('fk_case_exclusions_decided_by_id_users'),
                                ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_exclusions')),
    )
    op.create_index(op.f('ix_case_exclusions_report_id'), 'case_exclusions', ['report_id'])
    op.create_index('uq_case_exclusions_one_pending', 'case_exclusions', ['report_id'],
                    unique=True, postgresql_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    op.drop_table('case_exclusions')
