"""Each area's shapes for the map, made once when its boundary is written

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-08 00:40:00

A map tile at city zoom (z10–z11) draws every community the tile touches with its count: for a
real city's 6,400 communities it transformed, simplified and labelled each boundary on every
request (~250 ms of the tile, however few cases it counted). Stored, generated columns now hold
them, computed by PostgreSQL whenever a boundary is written (by an import, a derivation, or SQL
of one's own): `boundary_3857` (the boundary in Web Mercator, as the cells and the grid are
drawn), `outline_3857` (simplified to 0.00005°, ~5 m, as the areas are drawn) and
`label_lon`/`label_lat` (a point inside the area, where its count is labelled).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = '0027'
down_revision: str | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('areas', sa.Column(
        'boundary_3857', Geometry('GEOMETRY', srid=3857, spatial_index=False),
        sa.Computed('ST_Transform(boundary, 3857)', persisted=True)))
    op.add_column('areas', sa.Column(
        'outline_3857', Geometry('GEOMETRY', srid=3857, spatial_index=False),
        sa.Computed('ST_Transform(ST_SimplifyPreserveTopology(boundary, 0.00005), 3857)',
                    persisted=True)))
    op.add_column('areas', sa.Column(
        'label_lon', sa.Float(), sa.Computed('ST_X(ST_PointOnSurface(boundary))',
                                             persisted=True)))
    op.add_column('areas', sa.Column(
        'label_lat', sa.Float(), sa.Computed('ST_Y(ST_PointOnSurface(boundary))',
                                             persisted=True)))


def downgrade() -> None:
    for column in ('label_lat', 'label_lon', 'outline_3857', 'boundary_3857'):
        op.drop_column('areas', column)
