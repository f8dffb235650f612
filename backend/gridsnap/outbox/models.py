"""Outbox messages: one row per follow-up, written in the transaction that made it necessary."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Identity, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        # the relay's work list: what has not reached RQ yet
        Index("ix_outbox_pending", "id", postgresql_where="enqueued_at IS NULL AND done_at IS NULL"),
        # scheduled messages (deadline checks) wait here until their time
        Index("ix_outbox_available_at", "available_at",
              postgresql_where="enqueued_at IS NULL AND done_at IS NULL AND available_at IS NOT NULL"),
        Index("ix_outbox_in_flight", "enqueued_at",
              postgresql_where="enqueued_at IS NOT NULL AND done_at IS NULL"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    topic: Mapped[str] = mapped_column(String(60), nullable=False)
    payload: Mapped[dict] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)
    # not to be sent before this time (None: at once)
    available_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    enqueued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    job_id: Mapped[str | None] = mapped_column(String(120))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
