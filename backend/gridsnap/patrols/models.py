"""Patrols (按时巡), their track points, the coverage of each cell they walked, and the plans:
one writer, patrols.queries."""

from __future__ import annotations

import uuid
from datetime import datetime, time

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
    SmallInteger,
    String,
    Text,
    Time,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base


class Patrol(Base):
    """One patrol of a worker, from start to end (device times), and what it came to: distance,
    time, flags. Kept when its track points are purged (retention)."""

    __tablename__ = "patrols"
    __table_args__ = (
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
        Index("ix_patrols_worker_started", "worker_id", "started_at"),
        Index("ix_patrols_started_at", "started_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    worker_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    # the worker's scopes when the patrol started: whose supervisors see it
    worker_scopes: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)
    points: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    distance_m: Mapped[float] = mapped_column(Float, nullable=False, server_default="0")
    # recorded time: the sum of the gaps between points no longer than rules.MAX_GAP_S
    seconds: Mapped[float] = mapped_column(Float, nullable=False, server_default="0")
    max_speed_mps: Mapped[float | None] = mapped_column(Float)
    flags: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    track_purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TrackPoint(Base):
    """A point of a patrol's track, under the id the phone gave it (a batch sent twice adds
    nothing). Personal data: purged after the retention period."""

    __tablename__ = "track_points"
    __table_args__ = (Index("ix_track_points_patrol_at", "patrol_id", "recorded_at"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    patrol_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patrols.id", ondelete="CASCADE"), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    location = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)
    accuracy_m: Mapped[float | None] = mapped_column(Float)


class PatrolCell(Base):
    """What a patrol did in a cell (computed in PostGIS from its track's segments and buffer):
    the time inside it and the metres walked in it. Stays after the track is purged."""

    __tablename__ = "patrol_cells"
    __table_args__ = (Index("ix_patrol_cells_cell_code", "cell_code"),)

    patrol_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patrols.id", ondelete="CASCADE"), primary_key=True)
    cell_code: Mapped[str] = mapped_column(
        ForeignKey("areas.code", ondelete="CASCADE"), primary_key=True)
    seconds: Mapped[float] = mapped_column(Float, nullable=False)
    length_m: Mapped[float] = mapped_column(Float, nullable=False)


class PatrolPlan(Base):
    """巡查计划: the cells under an area are each to be walked `visits_per_week` times a week,
    within a window of the day (local time) if one is given."""

    __tablename__ = "patrol_plans"
    __table_args__ = (
        CheckConstraint("area_prefix ~ '^[0-9]{0,15}$'", name="area_prefix_digits"),
        CheckConstraint("visits_per_week BETWEEN 1 AND 100", name="visits_range"),
        CheckConstraint("(window_start IS NULL) = (window_end IS NULL)", name="window_whole"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    area_prefix: Mapped[str] = mapped_column(String(15), nullable=False, unique=True)
    visits_per_week: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    window_start: Mapped[time | None] = mapped_column(Time)
    window_end: Mapped[time | None] = mapped_column(Time)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)
