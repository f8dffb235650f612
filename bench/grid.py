"""Synthetic square grids (100 m × 100 m cells) inserted straight with SQL, for the lookup under test.

The rows are the ones the importer would write (same table, levels, parents and 15-digit codes;
MultiPolygons in EPSG:4326), so the app's cell lookup is exactly the production one. Only the
grid under test is installed at a time (next to the demo city), so the GiST index holds ~1.5k or
~100k cells, not both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import psycopg

# ~100 m at Beijing's latitude (39.9°): 1° of latitude is 111.0 km, of longitude 85.3 km.
DX = 0.00117  # degrees of longitude
DY = 0.0009  # degrees of latitude


@dataclass(frozen=True)
class Grid:
    """nx × ny cells from (x0, y0); one street; communities of block × block (≤ 999) cells."""

    name: str
    district: str
    district_name: str
    district_name_en: str
    x0: float
    y0: float
    nx: int
    ny: int
    dx: float = DX
    dy: float = DY
    block: int = 30

    @property
    def street(self) -> str:
        return self.district + "001"

    @property
    def cells(self) -> int:
        return self.nx * self.ny

    @property
    def communities(self) -> int:
        return math.ceil(self.nx / self.block) * math.ceil(self.ny / self.block)

    def lua_args(self) -> list[str]:
        """nx ny x0 y0 dx dy, as bench/intake.lua reads them."""
        return [str(self.nx), str(self.ny), repr(self.x0), repr(self.y0), repr(self.dx),
                repr(self.dy)]

    def pgbench_vars(self) -> dict[str, str]:
        return {"nx": str(self.nx), "ny": str(self.ny), "x0": repr(self.x0),
                "y0": repr(self.y0), "dx": repr(self.dx), "dy": repr(self.dy)}

    def point(self, rnd) -> tuple[float, float]:
        """A random point strictly inside a random cell (never on a shared edge)."""
        i, j = rnd.randrange(self.nx), rnd.randrange(self.ny)
        return (self.x0 + (i + 0.05 + 0.9 * rnd.random()) * self.dx,
                self.y0 + (j + 0.05 + 0.9 * rnd.random()) * self.dy)


# West of the demo city (110101 东城区, lon 116.394–116.425), and east of it: no overlaps.
GRID_1K = Grid("1k", "110102", "西城区 (bench)", "Xicheng District (bench)",
               x0=116.30, y0=39.88, nx=32, ny=32)
GRID_100K = Grid("100k", "110105", "朝阳区 (bench)", "Chaoyang District (bench)",
                 x0=116.45, y0=39.85, nx=316, ny=316)
GRIDS = {g.name: g for g in (GRID_1K, GRID_100K)}

_AREA_COLS = "code, level, parent_code, name, name_en, boundary"

_DISTRICT_AND_STREET = f"""
INSERT INTO areas ({_AREA_COLS})
SELECT code, level, parent, name, name_en,
       ST_Multi(ST_MakeEnvelope(%(x0)s, %(y0)s,
                                %(x0)s + %(nx)s * %(dx)s, %(y0)s + %(ny)s * %(dy)s, 4326))
  FROM (VALUES (%(district)s, 'district', NULL, %(dname)s, %(dname_en)s),
               (%(street)s, 'street', %(district)s, %(dname)s || ' 街道', NULL))
       AS v(code, level, parent, name, name_en)
"""

# Edges are computed as x0 + (integer index) * dx everywhere, so neighbours share exact
# coordinates and communities line up with their cells.
_COMMUNITIES = f"""
INSERT INTO areas ({_AREA_COLS})
SELECT %(street)s || lpad((bj * %(nbx)s + bi + 1)::text, 3, '0'), 'community', %(street)s,
       'bench 社区 ' || (bj * %(nbx)s + bi + 1), NULL,
       ST_Multi(ST_MakeEnvelope(
           %(x0)s + (bi * %(block)s) * %(dx)s, %(y0)s + (bj * %(block)s) * %(dy)s,
           %(x0)s + least((bi + 1) * %(block)s, %(nx)s) * %(dx)s,
           %(y0)s + least((bj + 1) * %(block)s, %(ny)s) * %(dy)s, 4326))
  FROM generate_series(0, %(nbx)s - 1) bi, generate_series(0, %(nby)s - 1) bj
"""

_CELLS = f"""
INSERT INTO areas ({_AREA_COLS})
SELECT c.code || lpad(((j %% %(block)s) * %(block)s + (i %% %(block)s) + 1)::text, 3, '0'),
       'cell', c.code, 'bench 网格 ' || i || ',' || j, NULL,
       ST_Multi(ST_MakeEnvelope(%(x0)s + i * %(dx)s, %(y0)s + j * %(dy)s,
                                %(x0)s + (i + 1) * %(dx)s, %(y0)s + (j + 1) * %(dy)s, 4326))
  FROM generate_series(0, %(nx)s - 1) i, generate_series(0, %(ny)s - 1) j,
       LATERAL (SELECT %(street)s
                       || lpad(((j / %(block)s) * %(nbx)s + i / %(block)s + 1)::text, 3, '0')
                       AS code) c
"""


def remove(conn: psycopg.Connection, grid: Grid) -> None:
    """Delete the grid's areas (children first; reports must be gone already)."""
    for level in ("cell", "community", "street", "district"):
        conn.execute("DELETE FROM areas WHERE level = %s AND code LIKE %s",
                     (level, grid.district + "%"))


def install(conn: psycopg.Connection, grid: Grid, *, others: list[Grid]) -> int:
    """Make `grid` the only bench grid installed; returns its cell count as stored."""
    assert grid.communities <= 999 and grid.block * grid.block <= 999
    params = {"x0": grid.x0, "y0": grid.y0, "nx": grid.nx, "ny": grid.ny, "dx": grid.dx,
              "dy": grid.dy, "block": grid.block, "nbx": math.ceil(grid.nx / grid.block),
              "nby": math.ceil(grid.ny / grid.block), "district": grid.district,
              "street": grid.street, "dname": grid.district_name,
              "dname_en": grid.district_name_en}
    with conn.transaction():
        for other in [*others, grid]:
            remove(conn, other)
        conn.execute(_DISTRICT_AND_STREET, params)
        conn.execute(_COMMUNITIES, params)
        conn.execute(_CELLS, params)
    n = conn.execute("SELECT count(*) FROM areas WHERE level = 'cell' AND code LIKE %s",
                     (grid.district + "%",)).fetchone()[0]
    conn.execute("VACUUM ANALYZE areas")
    return n
