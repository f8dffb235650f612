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
the cases (stats.rules.SUM_KEYS). indicator_medians: the month's medians per key of each of
those groupings, for the whole city: with the sums, the month's own table for the whole city.

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


_STALE_SUMS = """
CREATE FUNCTION stale_indicator_sums() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE indicator_periods p SET sums_rule = NULL
     WHERE p.sums_rule IS NOT NULL
       AND ((OLD.received_at >= p.period_start AND OLD.received_at < p.cutoff)
            OR (OLD.accepted_at >= p.period_start AND OLD.accepted_at < p.cutoff)
            OR (TG_OP = 'UPDATE'
                AND ((NEW.received_at >= p.period_start AND NEW.received_at < p.cutoff)
                     OR (NEW.accepted_at >= p.period_start AND NEW.accepted_at < p.cutoff))));
    RETURN NULL;
END
$$
"""


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
    op.create_table(
        'indicator_medians',
        sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('cutoff', sa.DateTime(timezone=True), nullable=False),
        sa.Column('grouping', sa.Text(), nullable=False),
        sa.Column('key', sa.Text(), nullable=True),
        sa.Column('median_accept_s', sa.Double(), nullable=True),
        sa.Column('median_dispatch_s', sa.Double(), nullable=True),
        sa.Column('median_handle_s', sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(['period_start', 'cutoff'],
                                ['indicator_periods.period_start', 'indicator_periods.cutoff'],
                                name=op.f('fk_indicator_medians_period_start_indicator_periods'),
                                ondelete='CASCADE'),
    )
    op.create_index('ix_indicator_medians_period', 'indicator_medians',
                    ['period_start', 'cutoff', 'grouping'])
    # a report of a kept month whose own attributes change (recategorized, moved, its receipt
    # corrected) or that is deleted: the month's sums no longer add up its reports as they
    # are; they are read no more until the worker adds them up again (its tables read the
    # kept facts, joined to the reports as they are, meanwhile)
    op.execute(_STALE_SUMS)
    op.execute("""
        CREATE TRIGGER reports_stale_indicator_sums
        AFTER UPDATE OF category_code, area_code, cell_code, community_code, street_code,
                        district_code, source, nature, reporter_id, received_at, accepted_at
        ON reports FOR EACH ROW
        WHEN (OLD.category_code IS DISTINCT FROM NEW.category_code
              OR OLD.area_code IS DISTINCT FROM NEW.area_code
              OR OLD.cell_code IS DISTINCT FROM NEW.cell_code
              OR OLD.source IS DISTINCT FROM NEW.source
              OR OLD.nature IS DISTINCT FROM NEW.nature
              OR OLD.reporter_id IS DISTINCT FROM NEW.reporter_id
              OR OLD.received_at IS DISTINCT FROM NEW.received_at
              -- an acceptance (NULL to now) falls in no month closed for good
              OR (OLD.accepted_at IS NOT NULL
                  AND OLD.accepted_at IS DISTINCT FROM NEW.accepted_at))
        EXECUTE FUNCTION stale_indicator_sums()
    """)
    op.execute("""
        CREATE TRIGGER reports_deleted_stale_indicator_sums
        AFTER DELETE ON reports FOR EACH ROW EXECUTE FUNCTION stale_indicator_sums()
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER reports_deleted_stale_indicator_sums ON reports")
    op.execute("DROP TRIGGER reports_stale_indicator_sums ON reports")
    op.execute("DROP FUNCTION stale_indicator_sums()")
    op.drop_index('ix_indicator_medians_period', table_name='indicator_medians')
    op.drop_table('indicator_medians')
    op.drop_index('ix_indicator_sums_period', table_name='indicator_sums')
    op.drop_table('indicator_sums')
    op.drop_column('indicator_periods', 'sums_rule')
    op.drop_column('indicator_facts', 'handling_due_epoch')
    op.drop_column('indicator_facts', 'open_due')
    op.drop_column('indicator_facts', 'open_stage')
    op.drop_column('indicator_periods', 'kept_report_number')
    op.drop_column('indicator_periods', 'kept_event_id')
    op.drop_column('indicator_periods', 'kept_to')
