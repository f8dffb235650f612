"""case_requests (退单审核 and 挂账/缓办) and the status `suspended`

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 13:00:00

A return (退单) now waits for a supervisor's review, and a department may ask to put a case on
the long-term list (挂账/缓办): both are requests a supervisor decides, one table, at most one
live request per case. A case returned before this revision awaits review too: it gets a
pending return request made from its trail (the department, reason and note of its last
`case.returned`, and the handling deadline that was running then).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_STATUSES = ("'reported', 'accepted', 'rejected', 'duplicate', 'dispatched', 'returned', "
                 "'resolved', 'closed'")


# a returned case without a live request gets a pending return request from its trail
BACKFILL_RETURNS = """
        INSERT INTO case_requests (report_id, kind, status, department_code, requested_by_id,
                                   reason_kind, reason, held_due_at, created_at)
        SELECT r.id, 'return', 'pending', e.department_code, e.actor_id,
               CASE WHEN e.data->>'reason' IN ('wrong_department', 'outside_duties',
                                               'duplicate', 'other')
                    THEN e.data->>'reason' ELSE 'other' END,
               e.note, h.due_at, coalesce(e.at, r.updated_at)
          FROM reports r
          LEFT JOIN LATERAL (
              SELECT x.id, x.at, x.actor_id, x.department_code, x.note, x.data
                FROM case_events x
               WHERE x.report_id = r.id AND x.action = 'case.returned'
               ORDER BY x.id DESC LIMIT 1) e ON true
          LEFT JOIN LATERAL (
              SELECT (y.data->>'due_at')::timestamptz AS due_at
                FROM case_events y
               WHERE y.report_id = r.id AND y.id < e.id AND y.data->>'stage' = 'handle'
                 AND y.data ? 'due_at'
               ORDER BY y.id DESC LIMIT 1) h ON true
         WHERE r.status = 'returned'
           AND NOT EXISTS (SELECT 1 FROM case_requests q
                            WHERE q.report_id = r.id AND q.status = 'pending')
    """


def upgrade() -> None:
    op.drop_constraint(op.f('ck_reports_status_known'), 'reports', type_='check')
    op.create_check_constraint(op.f('ck_reports_status_known'), 'reports',
                               f"status IN ({_OLD_STATUSES}, 'suspended')")
    op.create_table(
        'case_requests',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('report_id', sa.UUID(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('status', sa.String(length=10), server_default='pending', nullable=False),
        sa.Column('department_code', sa.String(length=40), nullable=True),
        sa.Column('requested_by_id', sa.BigInteger(), nullable=True),
        sa.Column('reason_kind', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('review_on', sa.Date(), nullable=True),
        sa.Column('held_due_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_by_id', sa.BigInteger(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decision_note', sa.Text(), nullable=True),
        sa.Column('ended_by_id', sa.BigInteger(), nullable=True),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.CheckConstraint("kind IN ('return', 'suspension')",
                           name=op.f('ck_case_requests_kind_known')),
        sa.CheckConstraint("status IN ('pending', 'approved', 'refused', 'ended', 'withdrawn')",
                           name=op.f('ck_case_requests_status_known')),
        sa.CheckConstraint("status <> 'ended' OR kind = 'suspension'",
                           name=op.f('ck_case_requests_only_suspensions_end')),
        sa.CheckConstraint("kind <> 'suspension' OR (review_on IS NOT NULL AND reason_kind IN "
                           "('funding', 'planning', 'court', 'other'))",
                           name=op.f('ck_case_requests_suspension_complete')),
        sa.CheckConstraint("kind <> 'return' OR reason_kind IN ('wrong_department', "
                           "'outside_duties', 'duplicate', 'other')",
                           name=op.f('ck_case_requests_return_reason_known')),
        sa.ForeignKeyConstraint(['report_id'], ['reports.id'], ondelete='CASCADE',
                                name=op.f('fk_case_requests_report_id_reports')),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], ondelete='RESTRICT',
                                name=op.f('fk_case_requests_requested_by_id_users')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], ondelete='RESTRICT',
                                name=op.f('fk_case_requests_decided_by_id_users')),
        sa.ForeignKeyConstraint(['ended_by_id'], ['users.id'], ondelete='RESTRICT',
                                name=op.f('fk_case_requests_ended_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_requests')),
    )
    op.create_index(op.f('ix_case_requests_report_id'), 'case_requests', ['report_id'],
                    unique=False)
    op.create_index('uq_case_requests_one_live', 'case_requests', ['report_id'], unique=True,
                    postgresql_where="status = 'pending' OR (kind = 'suspension' "
                                     "AND status = 'approved')")
    op.create_index('ix_case_requests_review_on', 'case_requests', ['review_on'], unique=False,
                    postgresql_where="kind = 'suspension' AND status = 'approved'")
    # the cases returned before review existed await it now
    op.execute(BACKFILL_RETURNS)


def downgrade() -> None:
    # a suspended case goes back to the department as dispatched, without a deadline running
    op.execute("UPDATE reports SET status = 'dispatched' WHERE status = 'suspended'")
    op.drop_index('ix_case_requests_review_on', table_name='case_requests',
                  postgresql_where="kind = 'suspension' AND status = 'approved'")
    op.drop_index('uq_case_requests_one_live', table_name='case_requests',
                  postgresql_where="status = 'pending' OR (kind = 'suspension' "
                                   "AND status = 'approved')")
    op.drop_index(op.f('ix_case_requests_report_id'), table_name='case_requests')
    op.drop_table('case_requests')
    op.drop_constraint(op.f('ck_reports_status_known'), 'reports', type_='check')
    op.create_check_constraint(op.f('ck_reports_status_known'), 'reports',
                               f"status IN ({_OLD_STATUSES})")
