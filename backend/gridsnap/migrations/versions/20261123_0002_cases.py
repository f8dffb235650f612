"""cases: closed loop columns, routing rules, extensions, links, notifications

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:46:02.772820
"""

from collections.abc import Sequence

import geoalchemy2  # noqa: F401  (geometry column types)
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('routing_rules',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('category_code', sa.String(length=8), nullable=True),
    sa.Column('area_prefix', sa.String(length=15), nullable=False),
    sa.Column('department_code', sa.String(length=40), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('created_by_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("area_prefix ~ '^[0-9]{0,15}$'", name=op.f('ck_routing_rules_area_prefix_digits')),
    sa.ForeignKeyConstraint(['category_code'], ['categories.code'], name=op.f('fk_routing_rules_category_code_categories'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_routing_rules_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['department_code'], ['departments.code'], name=op.f('fk_routing_rules_department_code_departments'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rules'))
    )
    op.create_index('uq_routing_rules_active_key', 'routing_rules', [sa.literal_column("coalesce(category_code, '*')"), 'area_prefix'], unique=True, postgresql_where='active')
    op.create_table('case_links',
    sa.Column('report_id', sa.UUID(), nullable=False),
    sa.Column('other_id', sa.UUID(), nullable=False),
    sa.Column('distance_m', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('report_id <> other_id', name=op.f('ck_case_links_not_self')),
    sa.ForeignKeyConstraint(['other_id'], ['reports.id'], name=op.f('fk_case_links_other_id_reports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_case_links_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', 'other_id', name=op.f('pk_case_links'))
    )
    op.create_index('ix_case_links_other_id', 'case_links', ['other_id'], unique=False)
    op.create_table('extension_requests',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('report_id', sa.UUID(), nullable=False),
    sa.Column('requested_by_id', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=14), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), server_default='pending', nullable=False),
    sa.Column('decided_by_id', sa.BigInteger(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'approved', 'refused')", name=op.f('ck_extension_requests_status_known')),
    sa.CheckConstraint("unit IN ('hours', 'working_hours', 'working_days')", name=op.f('ck_extension_requests_unit_known')),
    sa.CheckConstraint('amount BETWEEN 1 AND 10000', name=op.f('ck_extension_requests_amount_range')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_extension_requests_decided_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_extension_requests_report_id_reports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_extension_requests_requested_by_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extension_requests'))
    )
    op.create_index(op.f('ix_extension_requests_report_id'), 'extension_requests', ['report_id'], unique=False)
    op.create_index('uq_extension_requests_one_pending', 'extension_requests', ['report_id'], unique=True, postgresql_where="status = 'pending'")
    op.create_table('notifications',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('report_id', sa.UUID(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_notifications_report_id_reports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    op.create_index('ix_notifications_user_id_id', 'notifications', ['user_id', 'id'], unique=False)
    op.create_index('ix_notifications_user_unread', 'notifications', ['user_id', 'id'], unique=False, postgresql_where='read_at IS NULL')
    op.add_column('case_events', sa.Column('department_code', sa.String(length=40), nullable=True))
    op.add_column('case_events', sa.Column('client_action_id', sa.UUID(), nullable=True))
    op.create_index('ix_case_events_action_at', 'case_events', ['action', 'at'], unique=False)
    op.create_unique_constraint(op.f('uq_case_events_client_action_id'), 'case_events', ['client_action_id'])
    op.create_foreign_key(op.f('fk_case_events_department_code_departments'), 'case_events', 'departments', ['department_code'], ['code'], ondelete='RESTRICT')
    op.add_column('categories', sa.Column('auto_accept', sa.Boolean(), server_default='false', nullable=False))
    op.add_column('categories', sa.Column('auto_dispatch', sa.Boolean(), server_default='false', nullable=False))
    op.add_column('categories', sa.Column('duplicate_radius_m', sa.SmallInteger(), server_default='50', nullable=False))
    op.add_column('outbox', sa.Column('available_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_outbox_available_at', 'outbox', ['available_at'], unique=False, postgresql_where='enqueued_at IS NULL AND done_at IS NULL AND available_at IS NOT NULL')
    op.add_column('photos', sa.Column('purpose', sa.String(length=12), server_default='report', nullable=False))
    op.add_column('reports', sa.Column('stage', sa.String(length=10), server_default='accept', nullable=True))
    op.add_column('reports', sa.Column('stage_started_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('reports', sa.Column('overdue', sa.Boolean(), server_default='false', nullable=False))
    op.add_column('reports', sa.Column('overdue_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('reports', sa.Column('escalation_level', sa.Integer(), server_default='0', nullable=False))
    op.add_column('reports', sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    op.add_column('reports', sa.Column('suggested_department_code', sa.String(length=40), nullable=True))
    op.add_column('reports', sa.Column('routing_rule_id', sa.BigInteger(), nullable=True))
    op.add_column('reports', sa.Column('routing_source', sa.String(length=10), nullable=True))
    op.add_column('reports', sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('reports', sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('reports', sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('reports', sa.Column('signed_by_id', sa.BigInteger(), nullable=True))
    op.add_column('reports', sa.Column('responsible_department_code', sa.String(length=40), nullable=True))
    op.add_column('reports', sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('reports', sa.Column('resolved_by_id', sa.BigInteger(), nullable=True))
    op.add_column('reports', sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('reports', sa.Column('verifier_id', sa.BigInteger(), nullable=True))
    op.add_column('reports', sa.Column('rework_count', sa.Integer(), server_default='0', nullable=False))
    op.add_column('reports', sa.Column('return_count', sa.Integer(), server_default='0', nullable=False))
    op.add_column('reports', sa.Column('duplicate_of', sa.UUID(), nullable=True))
    op.create_index('ix_reports_department_status', 'reports', ['department_code', 'status'], unique=False)
    op.create_index(op.f('ix_reports_duplicate_of'), 'reports', ['duplicate_of'], unique=False)
    op.create_index('ix_reports_running_due', 'reports', ['due_at'], unique=False, postgresql_where='stage IS NOT NULL AND NOT overdue')
    op.create_index(op.f('ix_reports_verifier_id'), 'reports', ['verifier_id'], unique=False)
    op.create_foreign_key(op.f('fk_reports_resolved_by_id_users'), 'reports', 'users', ['resolved_by_id'], ['id'], ondelete='RESTRICT')
    op.create_foreign_key(op.f('fk_reports_duplicate_of_reports'), 'reports', 'reports', ['duplicate_of'], ['id'], ondelete='RESTRICT')
    op.create_foreign_key(op.f('fk_reports_responsible_department_code_departments'), 'reports', 'departments', ['responsible_department_code'], ['code'], ondelete='RESTRICT')
    op.create_foreign_key(op.f('fk_reports_suggested_department_code_departments'), 'reports', 'departments', ['suggested_department_code'], ['code'], ondelete='RESTRICT')
    op.create_foreign_key(op.f('fk_reports_routing_rule_id_routing_rules'), 'reports', 'routing_rules', ['routing_rule_id'], ['id'], ondelete='SET NULL')
    op.create_foreign_key(op.f('fk_reports_signed_by_id_users'), 'reports', 'users', ['signed_by_id'], ['id'], ondelete='RESTRICT')
    op.create_foreign_key(op.f('fk_reports_verifier_id_users'), 'reports', 'users', ['verifier_id'], ['id'], ondelete='RESTRICT')
    # reports received before the closed loop existed: put them in the stage their status implies
    op.execute("""
        UPDATE reports SET
            stage = CASE status WHEN 'reported' THEN 'accept' WHEN 'accepted' THEN 'accept'
                                WHEN 'returned' THEN 'accept' WHEN 'dispatched' THEN 'handle'
                                WHEN 'resolved' THEN 'verify' END,
            stage_started_at = received_at
    """)
    op.create_check_constraint(op.f('ck_reports_stage_known'), 'reports',
                               "stage IS NULL OR stage IN ('accept', 'handle', 'verify')")
    op.create_check_constraint(op.f('ck_reports_duplicate_has_primary'), 'reports',
                               "(status = 'duplicate') = (duplicate_of IS NOT NULL)")
    op.create_check_constraint(op.f('ck_reports_not_own_duplicate'), 'reports',
                               "duplicate_of IS NULL OR duplicate_of <> id")
    op.create_check_constraint(op.f('ck_reports_version_positive'), 'reports', "version >= 1")
    op.create_check_constraint(op.f('ck_photos_purpose_known'), 'photos',
                               "purpose IN ('report', 'resolution', 'verification')")
    op.create_check_constraint(op.f('ck_categories_duplicate_radius_range'), 'categories',
                               "duplicate_radius_m BETWEEN 0 AND 5000")


def downgrade() -> None:
    for table, name in (("reports", "stage_known"), ("reports", "duplicate_has_primary"),
                        ("reports", "not_own_duplicate"), ("reports", "version_positive"),
                        ("photos", "purpose_known"), ("categories", "duplicate_radius_range")):
        op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")
    op.drop_constraint(op.f('fk_reports_verifier_id_users'), 'reports', type_='foreignkey')
    op.drop_constraint(op.f('fk_reports_signed_by_id_users'), 'reports', type_='foreignkey')
    op.drop_constraint(op.f('fk_reports_routing_rule_id_routing_rules'), 'reports', type_='foreignkey')
    op.drop_constraint(op.f('fk_reports_suggested_department_code_departments'), 'reports', type_='foreignkey')
    op.drop_constraint(op.f('fk_reports_responsible_department_code_departments'), 'reports', type_='foreignkey')
    op.drop_constraint(op.f('fk_reports_duplicate_of_reports'), 'reports', type_='foreignkey')
    op.drop_constraint(op.f('fk_reports_resolved_by_id_users'), 'reports', type_='foreignkey')
    op.drop_index(op.f('ix_reports_verifier_id'), table_name='reports')
    op.drop_index('ix_reports_running_due', table_name='reports', postgresql_where='stage IS NOT NULL AND NOT overdue')
    op.drop_index(op.f('ix_reports_duplicate_of'), table_name='reports')
    op.drop_index('ix_reports_department_status', table_name='reports')
    op.drop_column('reports', 'duplicate_of')
    op.drop_column('reports', 'return_count')
    op.drop_column('reports', 'rework_count')
    op.drop_column('reports', 'verifier_id')
    op.drop_column('reports', 'closed_at')
    op.drop_column('reports', 'resolved_by_id')
    op.drop_column('reports', 'resolved_at')
    op.drop_column('reports', 'responsible_department_code')
    op.drop_column('reports', 'signed_by_id')
    op.drop_column('reports', 'signed_at')
    op.drop_column('reports', 'dispatched_at')
    op.drop_column('reports', 'accepted_at')
    op.drop_column('reports', 'routing_source')
    op.drop_column('reports', 'routing_rule_id')
    op.drop_column('reports', 'suggested_department_code')
    op.drop_column('reports', 'version')
    op.drop_column('reports', 'escalation_level')
    op.drop_column('reports', 'overdue_at')
    op.drop_column('reports', 'overdue')
    op.drop_column('reports', 'stage_started_at')
    op.drop_column('reports', 'stage')
    op.drop_column('photos', 'purpose')
    op.drop_index('ix_outbox_available_at', table_name='outbox', postgresql_where='enqueued_at IS NULL AND done_at IS NULL AND available_at IS NOT NULL')
    op.drop_column('outbox', 'available_at')
    op.drop_column('categories', 'duplicate_radius_m')
    op.drop_column('categories', 'auto_dispatch')
    op.drop_column('categories', 'auto_accept')
    op.drop_constraint(op.f('fk_case_events_department_code_departments'), 'case_events', type_='foreignkey')
    op.drop_constraint(op.f('uq_case_events_client_action_id'), 'case_events', type_='unique')
    op.drop_index('ix_case_events_action_at', table_name='case_events')
    op.drop_column('case_events', 'client_action_id')
    op.drop_column('case_events', 'department_code')
    op.drop_index('ix_notifications_user_unread', table_name='notifications', postgresql_where='read_at IS NULL')
    op.drop_index('ix_notifications_user_id_id', table_name='notifications')
    op.drop_table('notifications')
    op.drop_index('uq_extension_requests_one_pending', table_name='extension_requests', postgresql_where="status = 'pending'")
    op.drop_index(op.f('ix_extension_requests_report_id'), table_name='extension_requests')
    op.drop_table('extension_requests')
    op.drop_index('ix_case_links_other_id', table_name='case_links')
    op.drop_table('case_links')
    op.drop_index('uq_routing_rules_active_key', table_name='routing_rules', postgresql_where='active')
    op.drop_table('routing_rules')
