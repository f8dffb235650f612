"""The caller of a case: personal data, stored once, shown masked (invariant 10)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base


class Caller(Base):
    """Who asked for a case: a 12345 caller, or a citizen whose contact an Open311 client sent.

    One row per case at most; read unmasked only through hotline.service, which writes the
    view to the audit trail."""

    __tablename__ = "callers"
    __table_args__ = (
        CheckConstraint("name IS NULL OR char_length(name) <= 100", name="name_length"),
        CheckConstraint("phone IS NULL OR phone ~ '^[0-9+() -]{3,32}$'", name="phone_form"),
        CheckConstraint("email IS NULL OR char_length(email) <= 254", name="email_length"),
        CheckConstraint("(phone_hash IS NULL) = (phone_key IS NULL)", name="phone_hash_keyed"),
        CheckConstraint("phone_hash IS NULL OR octet_length(phone_hash) = 32",
                        name="phone_hash_sha256"),
        Index("ix_callers_phone_hash", "phone_hash"),
    )

    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    # the caller asked to stay anonymous: the departments never learn who called
    anonymous: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    # repeat callers: HMAC-SHA256 of the normalised number under the server key named by
    # phone_key (GRIDSNAP_CALLER_HASH_KEYS); repeat calls are found by it, never by the number
    phone_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    phone_key: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)
