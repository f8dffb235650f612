"""Photos of reports (the report's own, a handler's after-photo, a worker's on-site photo)."""

from __future__ import annotations

import uuid
from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base


class Photo(Base):
    """A photo of a report, keyed by the client's UUID; the bytes live in storage by hash."""

    __tablename__ = "photos"
    __table_args__ = (
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
        CheckConstraint("content_type IN ('image/jpeg', 'image/png', 'image/webp')",
                        name="content_type_known"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
        CheckConstraint("width > 0 AND height > 0", name="dimensions_positive"),
        CheckConstraint("purpose IN ('report', 'resolution', 'verification')",
                        name="purpose_known"),
        CheckConstraint("exif_source IN ('file', 'device')", name="exif_source_known"),
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
    # where the EXIF time and place above came from (photos.rules.EXIF_SOURCES): 'file', read
    # by the photo job from the stored bytes; 'device', only what the phone sent with them; NULL
    # before processing or when neither had any
    exif_source: Mapped[str | None] = mapped_column(String(6))
    # report: taken with the report; resolution: the handler's after-photo;
    # verification: the worker's on-site photo (核查)
    purpose: Mapped[str] = mapped_column(String(12), nullable=False, server_default="report")
    uploaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # shown through Open311 only once staff marked it public (公开): a worker's photo may show a
    # licence plate or a face
    public_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PhotoUpload(Base):
    """A resumable (tus) upload of one photo in progress, bound at creation to its report, photo
    id, purpose and uploader. The bytes so far live in a partial file under the media dir
    (storage.PartialUploads); `offset_bytes` is how many of them are durable (fsynced), and the
    truth: a longer file (a crash after fsync, before the update) is cut back to it. Done
    (`completed_at`) once handed to the photo service; swept after `expires_at`."""

    __tablename__ = "photo_uploads"
    __table_args__ = (
        CheckConstraint("length_bytes > 0", name="length_positive"),
        CheckConstraint("offset_bytes >= 0 AND offset_bytes <= length_bytes",
                        name="offset_within_length"),
        CheckConstraint("content_type IN ('image/jpeg', 'image/png', 'image/webp')",
                        name="content_type_known"),
        CheckConstraint("purpose IN ('report', 'resolution', 'verification')",
                        name="purpose_known"),
        Index("ix_photo_uploads_expires_at", "expires_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), nullable=False, index=True)
    photo_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    uploader_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    purpose: Mapped[str] = mapped_column(String(12), nullable=False)
    content_type: Mapped[str] = mapped_column(String(20), nullable=False)
    # the EXIF the phone read before downscaling, as the plain PUT takes it in its query
    device_exif: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")
    length_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    offset_bytes: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
