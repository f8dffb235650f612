"""A kept month's counts added up per area, category and department; the current month kept

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 19:00:00

indicator_sums: for each kept month (indicator_periods), the counts of its indicator table
added up per community, per cell, per category and per department (`shape`, `key`), each with
the reports' source, district, street and the first nine digits of their area, under the
settings that decide 应结案 and 按期 (`rule`, also kept on the period's row:
indicator_periods.sums_rule, so that a month of no reports is known to be added up too). A
year's table, or a range of months, adds these rows up: a few rows per area, category and
department a month at any number of cases, where reading each report's kept facts grows with
the cases (stats.rules.SUM_KEYS).

indicator_periods.kept_to: the current month is kept too, to a watermark a few minutes back,
moved on every ten minutes (its reports touched since are folded again); its table reads the
kept facts and folds only the trail of the reports touched after the watermark. Each kept
report carries the stage deadline and the handling deadline in force when its facts were
taken (open_stage, open_due, handling_due_epoch), which decide its lateness at a later cutoff.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# stats.rules.SUM_KEYS as of this revision
_COUNTS = (
    "reported", "reported_worker", "reported_hotline", "reported_open311", "reported_other",
    "reported_to_accept", "rejected", "accepted_of_reported", "accepted", "due", "closed",
    "closed_on_time", "suspended", "due_handling", "handled", "handled_on_time", "resolutions",
    "due_verification", "verified", "verified_on_time", "reworked", "rework_times",
    "first_time", "extended", "extended_due", "overdue", "overdue_handling", "requests",
    "answered_on_call", "dispatched_requests", "rejected_requests", "excluded_requests",
    "reduced_requests", "callbacks", "callback_unreachable", "rated", "contacted_in_time",
    "responded", "solved", "satisfied", "reopened", "repeat_requests", "direct_dispatched",
    "transferred", "settled_requests", "first_call_resolved", "dispatches",
    "wrong_dispatches",
)


def upgrade() -> None:
    # the current month kept to a watermark (kept_to), its trail since folded when read; each
    # report's deadlines in force at the instant its facts were taken
    op.add_column('indicator_periods', sa.Column('kept_to', sa.DateTime(timezone=True),
                                                 nullable=True))
    op.add_column('indicator_periods', sa.Column('kept_event_id', sa.BigInteger(),
                                                 nullable=True))
    op.add_column('indicator_periods', sa.Column('kept_report_number', sa.BigInteger(),
                                                 nullable=True))
    op.add_column('indicator_facts', sa.Column('open_stage', sa.Text(), nullable=True))
    op.add_column('indicator_facts', sa.Column('open_due', sa.DateTime(timezone=True),
                                               nullable=True))
    op.add_column('indicator_facts', sa.Column('handling_due_epoch', sa.Double(),
                                               nullable=True))
    # the rule the period's sums were kept under (none yet: NULL)
    op.add_column('indicator_periods', sa.Column('sums_rule', sa.Text(), nullable=True))
    op.create_table(
        'indicator_sums',
        sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('cutoff', sa.DateTime(timezone=True), nullable=False),
        sa.Column('rule', sa.Text(), nullable=False),
        sa.Column('shape', sa.Text(), nullable=False),
        sa.Column('key', sa.Text(), nullable=True),
        sa.Column('source', sa.Text(), nullable=True),
        sa.Column('district_code', sa.Text(), nullable=True),
        sa.Column('street_code', sa.Text(), nullable=True),
        sa.Column('community_code', sa.Text(), nullable=True),
        sa.Column('area9', sa.Text(), nullable=True),
        *[sa.Column(name, sa.BigInteger(), nullable=False) for name in _COUNTS],
        sa.ForeignKeyConstraint(['period_start', 'cutoff'],
                                ['indicator_periods.period_start', 'indicator_periods.cutoff'],
                                name=op.f('fk_indicator_sums_period_start_indicator_periods'),
                                ondelete='CASCADE'),
        sa.CheckConstraint("shape IN ('area', 'cell', 'category', 'department')",
                           name=op.f('ck_indicator_sums_shape')),
    )
    op.create_index('ix_indicator_sums_period', 'indicator_sums',
                    ['period_start', 'cutoff', 'rule', 'shape'])


def downgrade() -> None:
    op.drop_index('ix_indicator_sums_period', table_name='indicator_sums')
    op.drop_table('indicator_sums')
    op.drop_column('indicator_periods', 'sums_rule')
    op.drop_column('indicator_facts', 'handling_due_epoch')
    op.drop_column('indicator_facts', 'open_due')
    op.drop_column('indicator_facts', 'open_stage')
    op.drop_column('indicator_periods', 'kept_report_number')
    op.drop_column('indicator_periods', 'kept_event_id')
    op.drop_column('indicator_periods', 'kept_to')
