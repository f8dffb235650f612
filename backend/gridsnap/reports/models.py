"""Reports (each one a case), their photos and the audit trail of every change."""

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
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base

STATUSES = ("reported", "accepted", "rejected", "duplicate", "dispatched", "returned",
            "resolved", "closed")
LOCATION_SOURCES = ("gps", "network", "manual")


class Report(Base):
    """A report from the field, keyed by the UUID the client made; it is the case it opens."""

    __tablename__ = "reports"
    __table_args__ = (
        CheckConstraint("status IN ('reported', 'accepted', 'rejected', 'duplicate', 'dispatched',"
                        " 'returned', 'resolved', 'closed')", name="status_known"),
        CheckConstraint("location_source IN ('gps', 'network', 'manual')", name="source_known"),
        CheckConstraint("accuracy_m IS NULL OR (accuracy_m >= 0 AND accuracy_m <= 100000)",
                        name="accuracy_range"),
        CheckConstraint("char_length(description) <= 2000", name="description_length"),
        # outside_grid is exactly "no cell"; the area chain is the cell's prefixes
        CheckConstraint("outside_grid = (cell_code IS NULL)", name="outside_grid_means_no_cell"),
        CheckConstraint("cell_code IS NULL OR starts_with(cell_code, community_code)",
                        name="cell_in_community"),
        CheckConstraint("octet_length(fingerprint) = 32", name="fingerprint_sha256"),
        Index("ix_reports_location", "location", postgresql_using="gist"),
        Index("ix_reports_area_code_prefix", "area_code",
              postgresql_ops={"area_code": "text_pattern_ops"}),
        Index("ix_reports_updated_at", "updated_at", "id"),
        Index("ix_reports_open_cell", "cell_code",
              postgresql_where="status NOT IN ('closed', 'rejected', 'duplicate')"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, Identity(), nullable=False, unique=True)
    reporter_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True)
    category_code: Mapped[str] = mapped_column(
        ForeignKey("categories.code", ondelete="RESTRICT"), nullable=False, index=True)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    address: Mapped[str | None] = mapped_column(Text)
    location = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    location_source: Mapped[str] = mapped_column(String(10), nullable=False, server_default="gps")
    captured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())
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
    routed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # SHA-256 of the canonical submission: tells an identical replay from a conflicting one.
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)


class Photo(Base):
    """A photo of a report, keyed by the client's UUID; the bytes live in storage by hash."""

    __tablename__ = "photos"
    __table_args__ = (
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
        CheckConstraint("content_type IN ('image/jpeg', 'image/png', 'image/webp')",
                        name="content_type_known"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
        CheckConstraint("width > 0 AND height > 0", name="dimensions_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), nullable=False, index=True)
    uploader_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content_type: Mapped[str] = mapped_column(String(20), nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    original_key: Mapped[str] = mapped_column(Text, nullable=False)
    thumb_key: Mapped[str | None] = mapped_column(Text)
    display_key: Mapped[str | None] = mapped_column(Text)
    exif_taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    exif_location = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    exif_distance_m: Mapped[float | None] = mapped_column(Float)
    uploaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CaseEvent(Base):
    """One row of a case's audit trail: who, when, what, from which status to which, why."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_report_at", "report_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), nullable=False)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    action: Mapped[str] = mapped_column(String(60), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str | None] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")
