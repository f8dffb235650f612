"""The case loop's own tables: possible duplicates (links), extension requests (延期), the
requests a supervisor decides (returns under review, 退单审核, and 挂账/缓办), the
participants of joint cases (吹哨报到) and supervision notices (督办)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    false,
    func,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base


class CaseLink(Base):
    """A possible duplicate found by the duplicates job: `report_id` is the later report,
    `other_id` its cluster's primary (is_primary) or one of the few nearest earlier cases."""

    __tablename__ = "case_links"
    __table_args__ = (
        CheckConstraint("report_id <> other_id", name="not_self"),
        # a case's nearest links first, however many later reports link to it (those that
        # chose it as their cluster's primary apart: the others are counted when read)
        Index("ix_case_links_other_id_primary_distance", "other_id", "is_primary",
              "distance_m"),
    )

    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    other_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    distance_m: Mapped[float] = mapped_column(Float, nullable=False)
    is_primary: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    # 重复诉求: a 12345 request linked to an earlier request of its class at the same place
    # (open, or closed within the window) — cases.queries.link_repeats
    repeat: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)


class CaseLinkCount(Base):
    """How many later cases chose a case as their cluster's primary (the links to it with
    is_primary): kept by the duplicates job, one row a cluster, so that a case shows the count
    of a hot spot without counting it. Its other links — its own (at most NEAREST_LINKS + 1)
    and those of the later cases that have it among their nearest (a few) — are counted when
    read (cases.queries.possible_duplicate_counts)."""

    __tablename__ = "case_link_counts"

    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    primary_of: Mapped[int] = mapped_column(Integer, nullable=False)


class ExtensionRequest(Base):
    """延期: a handler asks for more time; a supervisor approves or refuses."""

    __tablename__ = "extension_requests"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'refused')", name="status_known"),
        CheckConstraint("unit IN ('hours', 'working_hours', 'working_days', 'days')",
                        name="unit_known"),
        CheckConstraint("amount BETWEEN 1 AND 10000", name="amount_range"),
        Index("uq_extension_requests_one_pending", "report_id", unique=True,
              postgresql_where="status = 'pending'"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), nullable=False, index=True)
    requested_by_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    amount: Mapped[int] = mapped_column(Integer, nullable=False)
    unit: Mapped[str] = mapped_column(String(14), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, server_default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)


class CaseExclusion(Base):
    """不合理诉求 and 申诉: a unit asks for a hotline request to leave the three rates (kind
    "exclusion": unreasonable, duplicate, outside government duty) or appeals its rated result
    (kind "appeal"); the centre approves (剔除 / 核减) or refuses. At most one pending per
    case; decided ones stay (the trail of who asked, why, who decided and why)."""

    __tablename__ = "case_exclusions"
    __table_args__ = (
        CheckConstraint("kind IN ('exclusion', 'appeal')", name="kind_known"),
        CheckConstraint("status IN ('pending', 'approved', 'refused')", name="status_known"),
        CheckConstraint("char_length(reason) BETWEEN 1 AND 2000", name="reason_length"),
        Index("uq_case_exclusions_one_pending", "report_id", unique=True,
              postgresql_where="status = 'pending'"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    reason_kind: Mapped[str] = mapped_column(String(20), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    department_code: Mapped[str | None] = mapped_column(
        ForeignKey("departments.code", ondelete="RESTRICT"))
    requested_by_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, server_default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)


class CaseRequest(Base):
    """A department's request a supervisor decides: a return (退单, kind "return") waiting for
    review, or a 挂账/缓办 (kind "suspension"): pending, then approved or refused; an approved
    suspension ends ("ended") when the case resumes; a request another change of the case
    overtook (the case left the state it was asked in) is "withdrawn". At most one live request
    per case (pending, or a suspension in force), which the case read model joins."""

    __tablename__ = "case_requests"
    __table_args__ = (
        CheckConstraint("kind IN ('return', 'suspension')", name="kind_known"),
        CheckConstraint("status IN ('pending', 'approved', 'refused', 'ended', 'withdrawn')",
                        name="status_known"),
        CheckConstraint("status <> 'ended' OR kind = 'suspension'", name="only_suspensions_end"),
        CheckConstraint("kind <> 'suspension' OR (review_on IS NOT NULL AND reason_kind IN "
                        "('funding', 'planning', 'court', 'other'))", name="suspension_complete"),
        CheckConstraint("kind <> 'return' OR reason_kind IN ('wrong_department', "
                        "'outside_duties', 'duplicate', 'other')", name="return_reason_known"),
        Index("uq_case_requests_one_live", "report_id", unique=True,
              postgresql_where="status = 'pending' OR (kind = 'suspension' "
                               "AND status = 'approved')"),
        # the daily return of 挂账 cases: the suspensions in force by review date
        Index("ix_case_requests_review_on", "review_on",
              postgresql_where="kind = 'suspension' AND status = 'approved'"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, server_default="pending")
    # the department that asked (a return: the one the case goes back to if refused)
    department_code: Mapped[str | None] = mapped_column(String(40))
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"))
    reason_kind: Mapped[str] = mapped_column(String(20), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)  # the note
    review_on: Mapped[date | None] = mapped_column(Date)  # 挂账: the review date
    # a return: the handling deadline in force when it was returned (kept if refused)
    held_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)
class JointParticipant(Base):
    """吹哨报到: one department summoned to a joint case — the lead (主办) or a co-department
    (协办) — when it was summoned, by when it must report in (报到), when it did, and (a
    co-department) its feedback to the lead."""

    __tablename__ = "joint_participants"
    __table_args__ = (
        CheckConstraint("role IN ('lead', 'co')", name="role_known"),
        CheckConstraint("(reported_in_at IS NULL) = (reported_in_by_id IS NULL)",
                        name="reported_in_by_whom"),
        CheckConstraint("(fed_back_at IS NULL) = (fed_back_by_id IS NULL)",
                        name="fed_back_by_whom"),
        CheckConstraint("role = 'co' OR fed_back_at IS NULL", name="feedback_from_co"),
        Index("uq_joint_participants_one_lead", "report_id", unique=True,
              postgresql_where="role = 'lead'"),
        Index("ix_joint_participants_department", "department_code"),
    )

    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    department_code: Mapped[str] = mapped_column(
        ForeignKey("departments.code", ondelete="RESTRICT"), primary_key=True)
    role: Mapped[str] = mapped_column(String(4), nullable=False)
    summoned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    summoned_by_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    report_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    reported_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reported_in_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"))
    feedback: Mapped[str | None] = mapped_column(Text)
    fed_back_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fed_back_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"))


class CaseNotice(Base):
    """督办: a supervisor's notice to a department about an overdue or repeatedly returned case,
    with a reply deadline; the department's reply."""

    __tablename__ = "case_notices"
    __table_args__ = (
        CheckConstraint("(replied_at IS NULL) = (replied_by_id IS NULL)",
                        name="replied_by_whom"),
        CheckConstraint("(replied_at IS NULL) = (reply IS NULL)", name="reply_when_replied"),
        CheckConstraint(
            "ground IS NULL OR ground IN ('overdue', 'repeated', 'leader_instruction', "
            "'media_exposure', 'repeated_complaints', 'other')", name="ground_known"),
        Index("ix_case_notices_report_id", "report_id"),
        Index("ix_case_notices_department_open", "department_code", "reply_due_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), nullable=False)
    department_code: Mapped[str] = mapped_column(
        ForeignKey("departments.code", ondelete="RESTRICT"), nullable=False)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    issued_by_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False)
    # why it was issued (cases.rules.NOTICE_GROUNDS, or the case's own: overdue, repeated);
    # null only on a notice issued before grounds were kept and without one on its event
    ground: Mapped[str | None] = mapped_column(String(30))
    reply_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    replied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    replied_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"))
    reply: Mapped[str | None] = mapped_column(Text)
