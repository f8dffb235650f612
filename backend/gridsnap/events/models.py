"""The audit trail of every case: who, when, what, from which status to which, why."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Identity, Index, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base


class CaseEvent(Base):
    """One row of a case's audit trail: who, when, what, from which status to which, why."""

    __tablename__ = "case_events"
    __table_args__ = (
        Index("ix_case_events_report_at", "report_id", "at"),
        Index("ix_case_events_action_at", "action", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), nullable=False)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    action: Mapped[str] = mapped_column(String(60), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str | None] = mapped_column(String(12))
    # staff's note is internal; the public reply (公开答复) is the only text Open311 shows
    note: Mapped[str | None] = mapped_column(Text)
    public_note: Mapped[str | None] = mapped_column(Text)
    department_code: Mapped[str | None] = mapped_column(
        ForeignKey("departments.code", ondelete="RESTRICT"))
    # the id a phone gave an action, so a replayed action is applied once (offline sync)
    client_action_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), unique=True)
    data: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")
