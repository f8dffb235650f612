"""Open311's own table: the media_url a client posted with a request (the spec's media_url
of POST Service Request: a public URL of a picture the client keeps), returned as it came."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base
from .rules import MAX_MEDIA_URL


class PostedMedia(Base):
    """One posted media_url per case at most; its one writer is open311.queries."""

    __tablename__ = "open311_media"
    __table_args__ = (
        CheckConstraint(f"char_length(media_url) <= {MAX_MEDIA_URL}", name="media_url_length"),
        CheckConstraint("media_url ~ '^https?://'", name="media_url_http"),
    )

    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    media_url: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)
