"""The indicator facts of a closed month, kept once

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 16:00:00

indicator_periods: the periods whose facts are kept (a calendar month closed for good);
indicator_facts: per report of such a period, the facts its trail decides as of the period's
cutoff (stats.rules.KEPT_FACTS), so that the month's table reads them instead of folding the
month's trail again. Kept by the worker's periodic task `stats.keep_months`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# stats.rules.KEPT_FACTS as of this revision
_FACTS = (
    ("handler_id", "bigint"), ("dispatcher_id", "bigint"), ("closed_at", "timestamptz"),
    ("dispatched_at", "timestamptz"), ("resolved_at", "timestamptz"), ("answered", "boolean"),
    ("excluded", "boolean"), ("reduced", "boolean"), ("contacted_in_time", "boolean"),
    ("reopened", "boolean"), ("dispatch_units", "integer"), ("repeat_request", "boolean"),
    ("cb_reached", "boolean"), ("cb_unreachable", "boolean"), ("cb_responded", "boolean"),
    ("cb_solved", "boolean"), ("cb_satisfaction", "text"), ("not_merged", "boolean"),
    ("rejected", "boolean"), ("reworked", "boolean"), ("rework_times", "integer"),
    ("resolutions", "integer"), ("extended", "boolean"), ("late_accept", "boolean"),
    ("late_handle", "boolean"), ("late_verify", "boolean"), ("late_any", "boolean"),
    ("checked", "boolean"), ("suspended", "boolean"), ("handling_due_come", "boolean"),
    ("department_code", "text"), ("dispatches", "integer"), ("wrong_dispatches", "integer"),
)
_TYPES = {"bigint": sa.BigInteger, "timestamptz": lambda: sa.DateTime(timezone=True),
          "boolean": sa.Boolean, "integer": sa.Integer, "text": sa.Text}


def upgrade() -> None:
    op.create_table(
        'indicator_periods',
        sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('cutoff', sa.DateTime(timezone=True), nullable=False),
        sa.Column('label', sa.Text(), nullable=False),
        sa.Column('cases', sa.Integer(), nullable=False),
        sa.Column('events', sa.BigInteger(), nullable=True),
        sa.Column('kept_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.PrimaryKeyConstraint('period_start', 'cutoff', name=op.f('pk_indicator_periods')),
    )
    op.create_table(
        'indicator_facts',
        sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('cutoff', sa.DateTime(timezone=True), nullable=False),
        sa.Column('report_id', sa.Uuid(), nullable=False),
        *[sa.Column(name, _TYPES[kind](), nullable=kind not in ("boolean", "integer"))
          for name, kind in _FACTS],
        sa.ForeignKeyConstraint(['report_id'], ['reports.id'],
                                name=op.f('fk_indicator_facts_report_id_reports'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['period_start', 'cutoff'],
                                ['indicator_periods.period_start', 'indicator_periods.cutoff'],
                                name=op.f('fk_indicator_facts_period_start_indicator_periods'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('period_start', 'cutoff', 'report_id',
                                name=op.f('pk_indicator_facts')),
    )
    op.create_index('ix_indicator_facts_report_id', 'indicator_facts', ['report_id'])


def downgrade() -> None:
    op.drop_index('ix_indicator_facts_report_id', table_name='indicator_facts')
    op.drop_table('indicator_facts')
    op.drop_table('indicator_periods')
