"""Categories of problems (national 部件/事件 classes) and departments (处置部门)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, SmallInteger, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base


class Department(Base):
    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    name_en: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)


class Category(Base):
    """A minor class, e.g. C0101 部件·公用设施·上水井盖 or E0101 事件·市容环境·暴露垃圾."""

    __tablename__ = "categories"
    __table_args__ = (
        CheckConstraint("kind IN ('component', 'event')", name="kind_known"),
        CheckConstraint("code ~ '^[CE][0-9]{4}$'", name="code_form"),
        CheckConstraint("priority BETWEEN 1 AND 3", name="priority_range"),
        CheckConstraint("duplicate_radius_m BETWEEN 0 AND 5000", name="duplicate_radius_range"),
        CheckConstraint(
            "jsonb_typeof(time_limits) = 'object' AND time_limits ?& ARRAY['accept','handle','verify']",
            name="time_limits_stages"),
    )

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    major_code: Mapped[str] = mapped_column(String(2), nullable=False)
    major_name: Mapped[str] = mapped_column(Text, nullable=False)
    major_name_en: Mapped[str | None] = mapped_column(Text)
    minor_code: Mapped[str] = mapped_column(String(2), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    name_en: Mapped[str | None] = mapped_column(Text)
    department_code: Mapped[str | None] = mapped_column(
        ForeignKey("departments.code", ondelete="RESTRICT"))
    priority: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="3")
    time_limits: Mapped[dict] = mapped_column(JSONB, nullable=False)
    active: Mapped[bool] = mapped_column(nullable=False, server_default="true")
    # settings of the closed loop per category
    auto_accept: Mapped[bool] = mapped_column(nullable=False, server_default="false")
    auto_dispatch: Mapped[bool] = mapped_column(nullable=False, server_default="false")
    duplicate_radius_m: Mapped[int] = mapped_column(SmallInteger, nullable=False,
                                                    server_default="50")
