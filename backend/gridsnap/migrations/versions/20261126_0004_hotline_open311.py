"""hotline and open311: a case's source, 诉求性质 and urgency, callbacks (回访), callers'
personal data, the call-taker and client roles

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # existing rows came from the field: source defaults to worker
    op.add_column('reports', sa.Column('source', sa.String(length=10), server_default='worker', nullable=False))
    op.add_column('reports', sa.Column('nature', sa.String(length=12), nullable=True))
    op.add_column('reports', sa.Column('urgency', sa.String(length=10), nullable=True))
    op.add_column('reports', sa.Column('callback_status', sa.String(length=12), nullable=True))
    op.add_column('reports', sa.Column('callback_attempts', sa.Integer(), server_default='0', nullable=False))
    op.create_check_constraint(op.f('ck_reports_report_source_known'), 'reports',
                               "source IN ('worker', 'hotline', 'open311', 'other')")
    op.create_check_constraint(op.f('ck_reports_nature_known'), 'reports',
                               "nature IS NULL OR nature IN ('consultation', 'help', 'complaint', 'report', 'suggestion', 'praise')")
    op.create_check_constraint(op.f('ck_reports_urgency_known'), 'reports',
                               "urgency IS NULL OR urgency IN ('emergency', 'urgent', 'ordinary', 'complex')")
    op.create_check_constraint(op.f('ck_reports_callback_status_known'), 'reports',
                               "callback_status IS NULL OR callback_status IN ('pending', 'done', 'negative', 'unreachable')")
    op.create_check_constraint(op.f('ck_reports_callback_attempts_range'), 'reports',
                               'callback_attempts BETWEEN 0 AND 3')
    op.create_index('ix_reports_callback_pending', 'reports', ['closed_at'], unique=False,
                    postgresql_where="callback_status = 'pending'")
    op.create_table('callers',
    sa.Column('report_id', sa.UUID(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('anonymous', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('name IS NULL OR char_length(name) <= 100', name=op.f('ck_callers_name_length')),
    sa.CheckConstraint("phone IS NULL OR phone ~ '^[0-9+() -]{3,32}$'", name=op.f('ck_callers_phone_form')),
    sa.CheckConstraint('email IS NULL OR char_length(email) <= 254', name=op.f('ck_callers_email_length')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_callers_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', name=op.f('pk_callers'))
    )
    op.drop_constraint(op.f('ck_users_role_known'), 'users', type_='check')
    op.create_check_constraint(op.f('ck_users_role_known'), 'users',
                               "role IN ('worker', 'supervisor', 'handler', 'admin', 'call_taker', 'client')")


def downgrade() -> None:
    op.drop_constraint(op.f('ck_users_role_known'), 'users', type_='check')
    op.create_check_constraint(op.f('ck_users_role_known'), 'users',
                               "role IN ('worker', 'supervisor', 'handler', 'admin')")
    op.drop_table('callers')
    op.drop_index('ix_reports_callback_pending', table_name='reports')
    for name in ('report_source_known', 'nature_known', 'urgency_known', 'callback_status_known',
                 'callback_attempts_range'):
        op.drop_constraint(op.f(f'ck_reports_{name}'), 'reports', type_='check')
    for col in ('callback_attempts', 'callback_status', 'urgency', 'nature', 'source'):
        op.drop_column('reports', col)
