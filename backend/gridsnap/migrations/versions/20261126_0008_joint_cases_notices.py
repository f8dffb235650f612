"""joint cases (吹哨报到) and supervision notices (督办)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 12:00:00

`reports.joint_departments` names the departments summoned to a joint case (their handlers see
it); `joint_participants` holds each one's report-in (报到) and feedback; `case_notices` holds
the notices (督办) and their replies.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('reports', sa.Column('joint_departments', postgresql.ARRAY(sa.Text()),
                                       nullable=True))
    op.create_index('ix_reports_joint_departments', 'reports', ['joint_departments'],
                    unique=False, postgresql_using='gin',
                    postgresql_where='joint_departments IS NOT NULL')
    op.create_table('joint_participants',
    sa.Column('report_id', sa.UUID(), nullable=False),
    sa.Column('department_code', sa.String(length=40), nullable=False),
    sa.Column('role', sa.String(length=4), nullable=False),
    sa.Column('summoned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('summoned_by_id', sa.BigInteger(), nullable=False),
    sa.Column('report_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reported_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reported_in_by_id', sa.BigInteger(), nullable=True),
    sa.Column('feedback', sa.Text(), nullable=True),
    sa.Column('fed_back_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('fed_back_by_id', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("role IN ('lead', 'co')", name=op.f('ck_joint_participants_role_known')),
    sa.CheckConstraint('(reported_in_at IS NULL) = (reported_in_by_id IS NULL)',
                       name=op.f('ck_joint_participants_reported_in_by_whom')),
    sa.CheckConstraint('(fed_back_at IS NULL) = (fed_back_by_id IS NULL)',
                       name=op.f('ck_joint_participants_fed_back_by_whom')),
    sa.CheckConstraint("role = 'co' OR fed_back_at IS NULL",
                       name=op.f('ck_joint_participants_feedback_from_co')),
    sa.ForeignKeyConstraint(['department_code'], ['departments.code'],
                            name=op.f('fk_joint_participants_department_code_departments'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'],
                            name=op.f('fk_joint_participants_report_id_reports'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['summoned_by_id'], ['users.id'],
                            name=op.f('fk_joint_participants_summoned_by_id_users'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reported_in_by_id'], ['users.id'],
                            name=op.f('fk_joint_participants_reported_in_by_id_users'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['fed_back_by_id'], ['users.id'],
                            name=op.f('fk_joint_participants_fed_back_by_id_users'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('report_id', 'department_code', name=op.f('pk_joint_participants'))
    )
    op.create_index('uq_joint_participants_one_lead', 'joint_participants', ['report_id'],
                    unique=True, postgresql_where="role = 'lead'")
    op.create_index('ix_joint_participants_department', 'joint_participants',
                    ['department_code'], unique=False)
    op.create_table('case_notices',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('report_id', sa.UUID(), nullable=False),
    sa.Column('department_code', sa.String(length=40), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by_id', sa.BigInteger(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('reply_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replied_by_id', sa.BigInteger(), nullable=True),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.CheckConstraint('(replied_at IS NULL) = (replied_by_id IS NULL)',
                       name=op.f('ck_case_notices_replied_by_whom')),
    sa.CheckConstraint('(replied_at IS NULL) = (reply IS NULL)',
                       name=op.f('ck_case_notices_reply_when_replied')),
    sa.ForeignKeyConstraint(['department_code'], ['departments.code'],
                            name=op.f('fk_case_notices_department_code_departments'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'],
                            name=op.f('fk_case_notices_report_id_reports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'],
                            name=op.f('fk_case_notices_issued_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['replied_by_id'], ['users.id'],
                            name=op.f('fk_case_notices_replied_by_id_users'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_notices'))
    )
    op.create_index('ix_case_notices_report_id', 'case_notices', ['report_id'], unique=False)
    op.create_index('ix_case_notices_department_open', 'case_notices',
                    ['department_code', 'reply_due_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_case_notices_department_open', table_name='case_notices')
    op.drop_index('ix_case_notices_report_id', table_name='case_notices')
    op.drop_table('case_notices')
    op.drop_index('ix_joint_participants_department', table_name='joint_participants')
    op.drop_index('uq_joint_participants_one_lead', table_name='joint_participants',
                  postgresql_where="role = 'lead'")
    op.drop_table('joint_participants')
    op.drop_index('ix_reports_joint_departments', table_name='reports',
                  postgresql_using='gin', postgresql_where='joint_departments IS NOT NULL')
    op.drop_column('reports', 'joint_departments')
