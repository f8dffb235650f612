"""Reports: what comes in from the field, one row per case (the case loop's columns included)."""

from __future__ import annotations

import uuid
from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base

# the name the naming convention gives it (db.NAMING_CONVENTION), stated once: intake tells an
# unknown category by it (reports.service)
CATEGORY_FK = "fk_reports_category_code_categories"

class Report(Base):
    """A report from the field, keyed by the UUID the client made; it is the case it opens."""

    __tablename__ = "reports"
    __table_args__ = (
        CheckConstraint("status IN ('reported', 'accepted', 'rejected', 'duplicate', 'dispatched',"
                        " 'returned', 'resolved', 'closed', 'suspended')", name="status_known"),
        CheckConstraint("location_source IN ('gps', 'network', 'manual')", name="source_known"),
        CheckConstraint("accuracy_m IS NULL OR (accuracy_m >= 0 AND accuracy_m <= 100000)",
                        name="accuracy_range"),
        CheckConstraint("char_length(description) <= 2000", name="description_length"),
        # outside_grid is exactly "no cell"; the area chain is the cell's prefixes
        CheckConstraint("outside_grid = (cell_code IS NULL)", name="outside_grid_means_no_cell"),
        CheckConstraint("cell_code IS NULL OR starts_with(cell_code, community_code)",
                        name="cell_in_community"),
        CheckConstraint("octet_length(fingerprint) = 32", name="fingerprint_sha256"),
        CheckConstraint("stage IS NULL OR stage IN ('accept', 'handle', 'verify')",
                        name="stage_known"),
        CheckConstraint("(status = 'duplicate') = (duplicate_of IS NOT NULL)",
                        name="duplicate_has_primary"),
        CheckConstraint("duplicate_of IS NULL OR duplicate_of <> id", name="not_own_duplicate"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("source IN ('worker', 'hotline', 'open311', 'other')",
                        name="report_source_known"),
        CheckConstraint("nature IS NULL OR nature IN ('consultation', 'help', 'complaint', "
                        "'report', 'suggestion', 'praise')", name="nature_known"),
        CheckConstraint("urgency IS NULL OR urgency IN ('emergency', 'urgent', 'ordinary', "
                        "'complex')", name="urgency_known"),
        CheckConstraint("callback_status IS NULL OR callback_status IN ('pending', 'done', 'negative', "
                        "'unreachable')", name="callback_status_known"),
        CheckConstraint("callback_attempts BETWEEN 0 AND 3", name="callback_attempts_range"),
        Index("ix_reports_callback_pending", "closed_at",
              postgresql_where="callback_status = 'pending'"),
        # the sweep's work list: running deadlines not yet overdue
        Index("ix_reports_running_due", "due_at",
              postgresql_where="stage IS NOT NULL AND NOT overdue"),
        # running deadlines that are estimates (a year without a holiday notice): few, read by
        # /health and `gridsnap deadlines recompute`
        Index("ix_reports_estimated_due", "due_at",
              postgresql_where="due_at_guessed_years IS NOT NULL AND stage IS NOT NULL"),
        Index("ix_reports_category_received", "category_code", "received_at", "id"),
        # the overdue cases (the list's and the map's filter): a few thousand of millions
        Index("ix_reports_overdue", "received_at", postgresql_where="overdue"),
        Index("ix_reports_department_status", "department_code", "status"),
        Index("ix_reports_location", "location", postgresql_using="gist"),
        # possible duplicates are looked for among open cases, nearest first
        Index("ix_reports_open_location", "location", postgresql_using="gist",
              postgresql_where="status NOT IN ('closed', 'rejected', 'duplicate')"),
        Index("ix_reports_area_code_prefix", "area_code",
              postgresql_ops={"area_code": "text_pattern_ops"}),
        Index("ix_reports_updated_at", "updated_at", "id"),
        # 吹哨报到: the handlers of every summoned department see a joint case (invariant 4)
        Index("ix_reports_joint_departments", "joint_departments", postgresql_using="gin",
              postgresql_where="joint_departments IS NOT NULL"),
        Index("ix_reports_open_cell", "cell_code",
              postgresql_where="status NOT IN ('closed', 'rejected', 'duplicate')"),
        # 重复诉求 and the cases placed at one address point
        Index("ix_reports_address_point_id", "address_point_id",
              postgresql_where="address_point_id IS NOT NULL"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, Identity(), nullable=False, unique=True)
    reporter_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True)
    # indexed with the received time and id (ix_reports_category_received): a category's
    # cases newest first, as the case list pages them
    category_code: Mapped[str] = mapped_column(
        ForeignKey("categories.code", ondelete="RESTRICT", name=CATEGORY_FK), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    address: Mapped[str | None] = mapped_column(Text)
    location = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    location_source: Mapped[str] = mapped_column(String(10), nullable=False, server_default="gps")
    captured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)
    # The smallest area that covers the point: the cell, else the community/street/district.
    area_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code", ondelete="RESTRICT"))
    cell_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code", ondelete="RESTRICT"))
    community_code: Mapped[str | None] = mapped_column(
        ForeignKey("areas.code", ondelete="RESTRICT"))
    street_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code", ondelete="RESTRICT"))
    district_code: Mapped[str | None] = mapped_column(
        ForeignKey("areas.code", ondelete="RESTRICT"))
    outside_grid: Mapped[bool] = mapped_column(Boolean, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, server_default="reported")
    department_code: Mapped[str | None] = mapped_column(
        ForeignKey("departments.code", ondelete="RESTRICT"))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the years without a State Council holiday notice that due_at was counted over (an
    # estimate, deadlines.rules.guessed_years); None: counted on official data
    due_at_guessed_years: Mapped[list[int] | None] = mapped_column(ARRAY(SmallInteger))
    routed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # --- the closed loop (cases) ---
    # which deadline runs now: accept (立案), handle (处置) or verify (核查); None when ended
    stage: Mapped[str | None] = mapped_column(String(10), server_default="accept")
    stage_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    overdue: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    overdue_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalation_level: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    # bumped by every change of the case: the ETag, and the guard against lost updates
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    suggested_department_code: Mapped[str | None] = mapped_column(
        ForeignKey("departments.code", ondelete="RESTRICT"))
    routing_rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("routing_rules.id", ondelete="SET NULL"))
    routing_source: Mapped[str | None] = mapped_column(String(10))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # 首接负责: the first department that signed for the case answers for it
    responsible_department_code: Mapped[str | None] = mapped_column(
        ForeignKey("departments.code", ondelete="RESTRICT"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verifier_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    rework_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    return_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    duplicate_of: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("reports.id", ondelete="RESTRICT"), index=True)
    # 吹哨报到: the departments summoned to a joint case (the lead first), None for a plain
    # case; the participants' state is in joint_participants (cases.models)
    joint_departments: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    # --- where it came from (接诉即办) ---
    # worker (网格员), hotline (12345 call-taker), open311 (another system), other
    source: Mapped[str] = mapped_column(String(10), nullable=False, server_default="worker")
    nature: Mapped[str | None] = mapped_column(String(12))  # 诉求性质 of a hotline call
    urgency: Mapped[str | None] = mapped_column(String(10))  # the hotline's time limit class
    # 诉求分类: the class of the 12345 catalogue the call-taker chose (catalogue.models); the
    # dispatch catalogue routes it by the case's area
    request_class_code: Mapped[str | None] = mapped_column(
        ForeignKey("request_classes.code", ondelete="RESTRICT"))
    # the address point (门牌, grid.models) a call was placed at, when the call-taker chose one
    address_point_id: Mapped[int | None] = mapped_column(
        ForeignKey("address_points.id", ondelete="SET NULL"))
    # 回访: pending when a hotline case closes; done, negative (不满意 or 未解决: may be
    # reopened), or unreachable after three tries
    callback_status: Mapped[str | None] = mapped_column(String(12))
    callback_attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    # SHA-256 of the canonical submission: tells an identical replay from a conflicting one.
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
