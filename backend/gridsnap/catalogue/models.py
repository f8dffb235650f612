"""The request classes (诉求分类) and the dispatch catalogue (派单目录)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base
from .rules import CODE_PATTERN


class RequestClass(Base):
    """A class of the 12345 catalogue: level 1 (e.g. 城乡建设), 2 (市容环境), 3 (垃圾清运);
    a child's code extends its parent's. The 数字城管 category a case of this class is filed
    under, and the type of unit that takes it (a department code: street_office is the office
    of the case's street), are its own or its nearest ancestor's."""

    __tablename__ = "request_classes"
    __table_args__ = (
        CheckConstraint(f"code ~ '{CODE_PATTERN}'", name="code_form"),
        CheckConstraint("level BETWEEN 1 AND 3", name="level_range"),
        CheckConstraint("(level = 1) = (parent_code IS NULL)", name="root_has_no_parent"),
        CheckConstraint("parent_code IS NULL OR starts_with(code, parent_code)",
                        name="code_extends_parent"),
    )

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("request_classes.code", ondelete="RESTRICT"), index=True)
    level: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    name_en: Mapped[str | None] = mapped_column(Text)
    # what the call-taker may type: the name's pinyin without tones and spaces, its initials,
    # and the keywords the file gives (made at import, pypinyin)
    pinyin: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    initials: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    keywords: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    category_code: Mapped[str | None] = mapped_column(
        ForeignKey("categories.code", ondelete="RESTRICT"))
    department_code: Mapped[str | None] = mapped_column(
        ForeignKey("departments.code", ondelete="RESTRICT"))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)


class DispatchEntry(Base):
    """派单目录: a class (and every class under it) in an area (a code prefix; "" is the
    city) goes to this department; the most specific class wins, then the longest area."""

    __tablename__ = "dispatch_entries"
    __table_args__ = (
        CheckConstraint("area_prefix ~ '^[0-9]{0,15}$'", name="area_prefix_digits"),
        UniqueConstraint("class_code", "area_prefix", name="uq_dispatch_entries_class_area"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    class_code: Mapped[str] = mapped_column(
        ForeignKey("request_classes.code", ondelete="CASCADE"), nullable=False)
    area_prefix: Mapped[str] = mapped_column(String(15), nullable=False)
    department_code: Mapped[str] = mapped_column(
        ForeignKey("departments.code", ondelete="RESTRICT"), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)
