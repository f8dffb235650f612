"""The grid: nested areas from district to unit cell (单元网格), keyed by their standard codes."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base


class Area(Base):
    """A district 区县 (6 digits), street 街道 (9), community 社区 (12) or cell 单元网格 (14/15).

    Every code extends its parent's code, so "everything under X" is a prefix match.
    """

    __tablename__ = "areas"
    __table_args__ = (
        CheckConstraint(
            "(level = 'district' AND code ~ '^[0-9]{6}$') OR "
            "(level = 'street' AND code ~ '^[0-9]{9}$') OR "
            "(level = 'community' AND code ~ '^[0-9]{12}$') OR "
            "(level = 'cell' AND code ~ '^[0-9]{14,15}$')",
            name="level_matches_code",
        ),
        CheckConstraint("parent_code IS NULL OR starts_with(code, parent_code)",
                        name="code_extends_parent"),
        CheckConstraint("ST_IsValid(boundary)", name="boundary_valid"),
        Index("ix_areas_code_prefix", "code", postgresql_ops={"code": "text_pattern_ops"}),
        Index("ix_areas_cell_boundary", "boundary", postgresql_using="gist",
              postgresql_where="level = 'cell'"),
        Index("ix_areas_boundary", "boundary", postgresql_using="gist"),
    )

    code: Mapped[str] = mapped_column(String(15), primary_key=True)
    level: Mapped[str] = mapped_column(String(10), nullable=False)
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("areas.code", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    name_en: Mapped[str | None] = mapped_column(Text)
    boundary = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False)
    # the map's shapes, made by PostgreSQL whenever the boundary is written: in Web Mercator
    # (cells and the grid are drawn so), simplified to ~5 m (areas are drawn so), and a point
    # inside where its count is labelled — a tile at city zoom draws thousands of them
    boundary_3857 = mapped_column(
        Geometry("GEOMETRY", srid=3857, spatial_index=False),
        Computed("ST_Transform(boundary, 3857)", persisted=True))
    outline_3857 = mapped_column(
        Geometry("GEOMETRY", srid=3857, spatial_index=False),
        Computed("ST_Transform(ST_SimplifyPreserveTopology(boundary, 0.00005), 3857)",
                 persisted=True))
    label_lon: Mapped[float | None] = mapped_column(
        Float, Computed("ST_X(ST_PointOnSurface(boundary))", persisted=True))
    label_lat: Mapped[float | None] = mapped_column(
        Float, Computed("ST_Y(ST_PointOnSurface(boundary))", persisted=True))
    # made by an import as the union of its children (the file did not contain it), named by its
    # code; recomputed whenever a later import adds or changes one of its children. An area a
    # file contains is never derived, and never overwritten by derivation.
    derived: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)


class AddressPoint(Base):
    """门牌: a standard address (多福巷12号) with its point, and the smallest area covering it
    (its cell), found by PostGIS when imported. A typed address is looked up here first."""

    __tablename__ = "address_points"
    __table_args__ = (
        CheckConstraint("char_length(address) BETWEEN 2 AND 200", name="address_length"),
        Index("ix_address_points_area_code", "area_code"),
        # a typed fragment of an address (LIKE '%…%'), Chinese or English: trigrams (pg_trgm)
        Index("ix_address_points_key_trgm", "address_key", postgresql_using="gin",
              postgresql_ops={"address_key": "gin_trgm_ops"}),
        Index("ix_address_points_en_trgm", "address_en_key", postgresql_using="gin",
              postgresql_ops={"address_en_key": "gin_trgm_ops"}),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    address: Mapped[str] = mapped_column(Text, nullable=False)
    # the address as compared (rules.address_key: NFKC, no spaces or punctuation): unique
    address_key: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    address_en: Mapped[str | None] = mapped_column(Text)
    # the English address as compared: lower case
    address_en_key: Mapped[str | None] = mapped_column(Text)
    location = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)
    area_code: Mapped[str] = mapped_column(
        ForeignKey("areas.code", ondelete="RESTRICT"), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=clock.stamp)
