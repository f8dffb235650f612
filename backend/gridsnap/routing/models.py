"""Routing rules: category (or any) × area code prefix → department; the most specific wins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base


class RoutingRule(Base):
    __tablename__ = "routing_rules"
    __table_args__ = (
        CheckConstraint("area_prefix ~ '^[0-9]{0,15}$'", name="area_prefix_digits"),
        Index("uq_routing_rules_active_key", text("coalesce(category_code, '*')"), "area_prefix",
              unique=True, postgresql_where="active"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # None: every category
    category_code: Mapped[str | None] = mapped_column(
        ForeignKey("categories.code", ondelete="RESTRICT"))
    # "" is the whole city
    area_prefix: Mapped[str] = mapped_column(String(15), nullable=False)
    department_code: Mapped[str] = mapped_column(
        ForeignKey("departments.code", ondelete="RESTRICT"), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)
