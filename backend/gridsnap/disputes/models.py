"""Disputes (矛盾纠纷), their parties and their mediation trail: one writer, disputes.queries."""

from __future__ import annotations

import uuid
from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
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
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base
from .rules import KINDS, PHOTO_TYPES, RISKS, STATUSES


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Dispute(Base):
    """A dispute a worker found (排查): kind, risk, place, what it is about; the mediation's
    state and deadlines. Never on a tile, an export, Open311 or the public map."""

    __tablename__ = "disputes"
    __table_args__ = (
        CheckConstraint(_in("kind", KINDS), name="kind_known"),
        CheckConstraint(_in("risk", RISKS), name="risk_known"),
        CheckConstraint(_in("status", STATUSES), name="status_known"),
        CheckConstraint("char_length(description) <= 2000", name="description_length"),
        Index("ix_disputes_area_code_prefix", "area_code",
              postgresql_ops={"area_code": "text_pattern_ops"}),
        Index("ix_disputes_received_at", "received_at"),
        # the escalation sweep: 可能激化 disputes not yet accepted
        Index("ix_disputes_unaccepted_volatile", "accept_due_at",
              postgresql_where="status = 'reported' AND risk = 'may_escalate' "
                               "AND escalated_at IS NULL"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, Identity(), nullable=False, unique=True)
    reporter_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    risk: Mapped[str] = mapped_column(String(12), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    address: Mapped[str | None] = mapped_column(Text)
    location = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    # the smallest area covering the point (the grid's locate: a cell, else a larger area)
    area_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code", ondelete="RESTRICT"))
    captured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, server_default="reported")
    accept_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolve_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # agreed (达成协议) or transferred (转交)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    follow_up_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    agreement: Mapped[str | None] = mapped_column(Text)
    transferred_to: Mapped[str | None] = mapped_column(String(12))
    transferred_body: Mapped[str | None] = mapped_column(Text)


class DisputeParty(Base):
    """A party to a dispute: personal data, shown masked (invariant 10)."""

    __tablename__ = "dispute_parties"
    __table_args__ = (
        CheckConstraint("char_length(name) BETWEEN 1 AND 100", name="name_length"),
        CheckConstraint("phone IS NULL OR phone ~ '^[0-9+() -]{3,32}$'", name="phone_form"),
    )

    dispute_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("disputes.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    phone: Mapped[str | None] = mapped_column(Text)


class DisputeStep(Base):
    """One row of a dispute's trail: who, when, which step (an events.rules name), from which
    status to which, the note and the step's data (a session's participants, the agreement,
    the receiving body, a follow-up; an unmasked view of the parties)."""

    __tablename__ = "dispute_steps"
    __table_args__ = (Index("ix_dispute_steps_dispute_at", "dispute_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    dispute_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("disputes.id", ondelete="CASCADE"), nullable=False)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    action: Mapped[str] = mapped_column(String(60), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str | None] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")


class DisputePhoto(Base):
    """A photo of the signed agreement (人民调解协议书) attached to a dispute under the phone's
    id: the original as sent (its EXIF kept) and the EXIF-free JPEG sizes made from it, in the
    photo store (gridsnap.storage, keyed by content hash like a case photo's)."""

    __tablename__ = "dispute_photos"
    __table_args__ = (
        CheckConstraint(_in("content_type", PHOTO_TYPES), name="content_type_known"),
        CheckConstraint("size_bytes > 0 AND width > 0 AND height > 0", name="sizes_positive"),
        Index("ix_dispute_photos_dispute_uploaded", "dispute_id", "uploaded_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    dispute_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("disputes.id", ondelete="CASCADE"), nullable=False)
    uploader_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content_type: Mapped[str] = mapped_column(String(20), nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    original_key: Mapped[str] = mapped_column(Text, nullable=False)
    thumb_key: Mapped[str] = mapped_column(Text, nullable=False)
    display_key: Mapped[str] = mapped_column(Text, nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)
