"""Campaigns (专项), 每月一题 programmes, and the cases they take on."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base


class Campaign(Base):
    """专项整治: one class of problem (a category) in one area, over a span of days; or a
    每月一题 programme (kind monthly_topic) with its lead department and measures."""

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("area_prefix ~ '^[0-9]{0,15}$'", name="area_prefix_digits"),
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        CheckConstraint("char_length(name) BETWEEN 1 AND 200", name="name_length"),
        CheckConstraint("kind IN ('campaign', 'monthly_topic')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    category_code: Mapped[str] = mapped_column(
        ForeignKey("categories.code", ondelete="RESTRICT"), nullable=False)
    # "" is the whole city
    area_prefix: Mapped[str] = mapped_column(String(15), nullable=False)
    # calendar days in the deployment's time zone, both included
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date] = mapped_column(Date, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    # campaign (专项), or monthly_topic (每月一题: the problem class the city chose for the
    # month, run as a programme by its lead department with its measures)
    kind: Mapped[str] = mapped_column(String(20), nullable=False, server_default="campaign")
    lead_department_code: Mapped[str | None] = mapped_column(
        ForeignKey("departments.code", ondelete="RESTRICT"))
    # the measures (举措): [{"text", "done_on" (a day, or null while open)}]
    measures: Mapped[list] = mapped_column(JSONB, nullable=False, server_default="[]")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)


class CampaignCase(Base):
    """A case a campaign took on."""

    __tablename__ = "campaign_cases"
    __table_args__ = (Index("ix_campaign_cases_report_id", "report_id"),)

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    linked_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)


class HotSpotProposal(Base):
    """主动治理: a hot spot (category × community) of a month proposed to the supervisors of
    its area — once: the periodic job inserts it here first and tells them only if it was new."""

    __tablename__ = "hot_spot_proposals"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # "2026-11"
    category_code: Mapped[str] = mapped_column(
        ForeignKey("categories.code", ondelete="CASCADE"), primary_key=True)
    area_code: Mapped[str] = mapped_column(
        ForeignKey("areas.code", ondelete="CASCADE"), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, nullable=False)
    proposed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)
