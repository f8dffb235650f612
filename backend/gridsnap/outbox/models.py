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
    # The relay's work lists (queries.claim_pending), each growing with the work to do, never
    # with the messages scheduled for later (a deadline check per open case): those sit only in
    # ix_outbox_due, read up to the present. ix_outbox_troubled holds the messages that failed
    # or wait after an error (postponed): /health counts them, due or not.
    __table_args__ = (
        # to be sent at once: no time set
        Index("ix_outbox_ready", "id", postgresql_where=(
            "enqueued_at IS NULL AND done_at IS NULL AND failed_at IS NULL"
            " AND available_at IS NULL")),
        # not before their time: deadline checks, retries, postponed messages
        Index("ix_outbox_due", "available_at", postgresql_where=(
            "enqueued_at IS NULL AND done_at IS NULL AND failed_at IS NULL"
            " AND available_at IS NOT NULL")),
        Index("ix_outbox_in_flight", "enqueued_at",
              postgresql_where="enqueued_at IS NOT NULL AND done_at IS NULL"),
        Index("ix_outbox_troubled", "id", postgresql_where=(
            "done_at IS NULL AND (failed_at IS NOT NULL OR last_error IS NOT NULL)")),
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
