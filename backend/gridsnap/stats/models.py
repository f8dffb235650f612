"""The indexes the evaluation reads through (the tables are the cases' own), and the residents
of each area (the 考评 ranking's requests per 10,000 residents)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base
from ..events.models import CaseEvent
from ..reports.models import Report

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
