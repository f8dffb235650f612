"""The indexes the evaluation reads through (the tables are the cases' own), and the residents
of each area (the 考评 ranking's requests per 10,000 residents)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Table,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base
from ..events.models import CaseEvent
from ..reports.models import Report
from .rules import KEPT_FACTS, SUM_KEYS

# A case belongs to the period of its 立案 time, a report to that of its receipt: the
# indicator table starts from these two ranges.
ix_reports_accepted_at = Index("ix_reports_accepted_at", Report.__table__.c.accepted_at)
ix_reports_received_at = Index("ix_reports_received_at", Report.__table__.c.received_at)
# the trail of a period, read as one range
ix_case_events_at = Index("ix_case_events_at", CaseEvent.__table__.c.at)


class AreaPopulation(Base):
    """The residents of an area (常住人口), for requests per 10,000 residents in the monthly
    考评 ranking: imported as data (`gridsnap stats populations FILE.csv`), the demo city's from
    fixtures/populations.csv."""

    __tablename__ = "area_populations"
    __table_args__ = (CheckConstraint("population >= 0", name="population_not_negative"),)

    area_code: Mapped[str] = mapped_column(
        ForeignKey("areas.code", ondelete="CASCADE"), primary_key=True)
    population: Mapped[int] = mapped_column(Integer, nullable=False)
    # where the figure comes from (a census, a year's statistics bulletin, "demo")
    source: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)


class IndicatorPeriod(Base):
    """A period whose indicator facts are kept (indicator_facts): a calendar month closed for
    good, folded once by the periodic task `stats.keep_months` (or `gridsnap stats keep`). Its
    row is written in the same transaction as its facts: a period listed here is complete."""

    __tablename__ = "indicator_periods"

    period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    cutoff: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    label: Mapped[str] = mapped_column(Text, nullable=False)
    cases: Mapped[int] = mapped_column(Integer, nullable=False)  # the reports kept
    # the period's trail events when kept (history written into it later changes the count)
    events: Mapped[int | None] = mapped_column(BigInteger)
    # a month kept before its end (the current month): the instant its facts were taken at
    # (its reports' trail after it is folded when read); NULL: at its cutoff
    kept_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the last trail event and report written when it was kept: those written after, whatever
    # their time, are folded when its table is read
    kept_event_id: Mapped[int | None] = mapped_column(BigInteger)
    kept_report_number: Mapped[int | None] = mapped_column(BigInteger)
    # the settings its counts were added up under (indicator_sums), if they were
    sums_rule: Mapped[str | None] = mapped_column(Text)
    kept_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)


def _fact_columns() -> list:
    kinds = {"bigint": BigInteger, "timestamptz": lambda: DateTime(timezone=True),
             "boolean": Boolean, "integer": Integer, "text": Text, "float8": Double}
    return [Column(name, kinds[kind](), nullable=kind not in ("boolean", "integer"))
            for name, kind in KEPT_FACTS]


# The facts of each report of a kept period that its trail decides (stats.rules.KEPT_FACTS), as of
# the period's cutoff; the report's own attributes are read from the report.
indicator_facts = Table(
    "indicator_facts", Base.metadata,
    Column("period_start", DateTime(timezone=True), primary_key=True),
    Column("cutoff", DateTime(timezone=True), primary_key=True),
    Column("report_id", ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True),
    *_fact_columns(),
    ForeignKeyConstraint(["period_start", "cutoff"],
                         ["indicator_periods.period_start", "indicator_periods.cutoff"],
                         ondelete="CASCADE"),
)
# a report's rows, for the cascade when it is deleted
ix_indicator_facts_report_id = Index("ix_indicator_facts_report_id",
                                     indicator_facts.c.report_id)


# A kept month's counts added up (stats.rules.SUM_KEYS) per cell, category or department
# (`shape`, `key`), with the reports' source, district, street and the first nine digits of
# their area, under the settings that decide 应结案 and 按期 (`rule`): a year's table adds them.
indicator_sums = Table(
    "indicator_sums", Base.metadata,
    Column("period_start", DateTime(timezone=True), nullable=False),
    Column("cutoff", DateTime(timezone=True), nullable=False),
    Column("rule", Text, nullable=False),
    Column("shape", Text, nullable=False),
    Column("key", Text),
    Column("source", Text),
    Column("district_code", Text),
    Column("street_code", Text),
    Column("community_code", Text),
    Column("area9", Text),
    *[Column(name, BigInteger, nullable=False) for name in SUM_KEYS],
    ForeignKeyConstraint(["period_start", "cutoff"],
                         ["indicator_periods.period_start", "indicator_periods.cutoff"],
                         ondelete="CASCADE"),
    CheckConstraint("shape IN ('area', 'cell', 'category', 'department')", name="shape"),
)
ix_indicator_sums_period = Index("ix_indicator_sums_period", indicator_sums.c.period_start,
                                 indicator_sums.c.cutoff, indicator_sums.c.rule,
                                 indicator_sums.c.shape)


# A kept month's medians for the whole city per key of each grouping the sums serve (grouping
# '' and no key: the whole city), read with the sums by the month's own table.
indicator_medians = Table(
    "indicator_medians", Base.metadata,
    Column("period_start", DateTime(timezone=True), nullable=False),
    Column("cutoff", DateTime(timezone=True), nullable=False),
    Column("grouping", Text, nullable=False),
    Column("key", Text),
    Column("median_accept_s", Double),
    Column("median_dispatch_s", Double),
    Column("median_handle_s", Double),
    ForeignKeyConstraint(["period_start", "cutoff"],
                         ["indicator_periods.period_start", "indicator_periods.cutoff"],
                         ondelete="CASCADE"),
)
ix_indicator_medians_period = Index("ix_indicator_medians_period",
                                    indicator_medians.c.period_start,
                                    indicator_medians.c.cutoff, indicator_medians.c.grouping)
