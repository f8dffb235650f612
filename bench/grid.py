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


@dataclass(frozen=True)
class City:
    """A city grid of a real city's size, as nested rectangles of 100 m cells: 4 × 4 districts,
    each of 4 × 5 streets (街道), each of 4 × 5 communities (社区), each of 3 × 3 cells (网格) —
    16 districts, 320 streets, 6,400 communities, 57,600 cells over 19 × 30 km (Beijing's 16
    districts hold ~330 streets and towns and ~7,000 communities). District codes 110151–
    110166, clear of the demo city's and the other bench grids'."""

    name: str = "city"
    x0: float = 116.45
    y0: float = 39.85
    districts: tuple[int, int] = (4, 4)
    streets: tuple[int, int] = (4, 5)
    communities: tuple[int, int] = (4, 5)
    cells: tuple[int, int] = (3, 3)
    dx: float = DX
    dy: float = DY
    first_district: int = 51

    def span(self, level: str) -> tuple[int, int]:
        """A unit of `level` in cells, (across, up)."""
        order = ("cell", "community", "street", "district")
        nx = ny = 1
        for lv, (ax, ay) in zip(order, (self.cells, self.communities, self.streets,
                                        self.districts), strict=True):
            if lv == level:
                return nx, ny
            nx, ny = nx * ax, ny * ay
        return nx, ny  # "city"

    @property
    def nx(self) -> int:
        return self.span("city")[0]

    @property
    def ny(self) -> int:
        return self.span("city")[1]

    def count(self, level: str) -> int:
        cx, cy = self.span("city")
        sx, sy = self.span(level)
        return (cx // sx) * (cy // sy)

    def district_code(self, k: int = 0) -> str:
        return f"1101{self.first_district + k:02d}"

    def centre(self) -> tuple[float, float]:
        return self.x0 + self.nx * self.dx / 2, self.y0 + self.ny * self.dy / 2


CITY = City()

# One statement per level below the district: every unit's rectangle from its indices (i, j) in
# units of that level, its code from its ancestors' numbers, worked out from the position of
# its lower-left cell (row-major numbering within the parent, from 1).
_CITY_LEVEL = f"""
INSERT INTO areas ({_AREA_COLS})
SELECT code, %(level)s, left(code, -3), %(zh)s || n || %(zh_tail)s, %(en)s::text || n,
       ST_Multi(ST_MakeEnvelope(%(x0)s + i * %(sx)s * %(dx)s, %(y0)s + j * %(sy)s * %(dy)s,
                                %(x0)s + (i + 1) * %(sx)s * %(dx)s,
                                %(y0)s + (j + 1) * %(sy)s * %(dy)s, 4326))
  FROM generate_series(0, %(cx)s / %(sx)s - 1) i, generate_series(0, %(cy)s / %(sy)s - 1) j,
       LATERAL (SELECT i * %(sx)s AS ci, j * %(sy)s AS cj) c,
       LATERAL (SELECT {{code}} AS code,
                       ((cj %% %(psy)s) / %(sy)s) * (%(psx)s / %(sx)s)
                           + (ci %% %(psx)s) / %(sx)s + 1 AS n) k
"""


def _city_code(city: City, level: str) -> str:
    """SQL of the code of the unit of `level` whose lower-left cell is (ci, cj)."""
    dx, dy = city.span("district")
    parts = [f"'1101' || lpad(({city.first_district} + (cj / {dy}) * {city.districts[0]} "
             f"+ ci / {dx})::text, 2, '0')"]
    order = ("district", "street", "community", "cell")
    for parent, lv in zip(order, order[1:], strict=False):
        px, py = city.span(parent)
        lx, ly = city.span(lv)
        parts.append(f"lpad((((cj %% {py}) / {ly}) * ({px // lx}) + (ci %% {px}) / {lx} + 1)"
                     "::text, 3, '0')")
        if lv == level:
            break
    return " || ".join(parts)


_CITY_DISTRICTS = f"""
INSERT INTO areas ({_AREA_COLS})
SELECT '1101' || lpad((%(first_n)s + j * %(ndx)s + i)::text, 2, '0'), 'district', NULL,
       '基准' || (j * %(ndx)s + i + 1) || '区', 'Bench District ' || (j * %(ndx)s + i + 1),
       ST_Multi(ST_MakeEnvelope(%(x0)s + i * %(sx)s * %(dx)s, %(y0)s + j * %(sy)s * %(dy)s,
                                %(x0)s + (i + 1) * %(sx)s * %(dx)s,
                                %(y0)s + (j + 1) * %(sy)s * %(dy)s, 4326))
  FROM generate_series(0, %(ndx)s - 1) i, generate_series(0, %(ndy)s - 1) j
"""


def insert_city(conn: psycopg.Connection, city: City = CITY) -> dict[str, int]:
    """Insert the city grid's areas (in the caller's transaction); returns the count stored at
    each level."""
    base = {"x0": city.x0, "y0": city.y0, "dx": city.dx, "dy": city.dy, "cx": city.nx,
            "cy": city.ny}
    sx, sy = city.span("district")
    conn.execute(_CITY_DISTRICTS, {**base, "sx": sx, "sy": sy, "first_n": city.first_district,
                                   "ndx": city.districts[0], "ndy": city.districts[1]})
    # names: 第1街道 / Street 1, 第1社区 / Community 1, 网格 1 (a cell has no English name)
    names = {"street": ("第", "街道", "Street "), "community": ("第", "社区", "Community "),
             "cell": ("网格 ", "", None)}
    for level, parent in (("street", "district"), ("community", "street"),
                          ("cell", "community")):
        sx, sy = city.span(level)
        psx, psy = city.span(parent)
        zh, zh_tail, en = names[level]
        conn.execute(_CITY_LEVEL.replace("{code}", _city_code(city, level)),
                     {**base, "level": level, "sx": sx, "sy": sy, "psx": psx, "psy": psy,
                      "zh": zh, "zh_tail": zh_tail, "en": en})
    last = city.district_code(city.districts[0] * city.districts[1] - 1)
    return {level: conn.execute(
        "SELECT count(*) FROM areas WHERE level = %s AND left(code, 6) BETWEEN %s AND %s",
        (level, city.district_code(0), last)).fetchone()[0]
        for level in ("district", "street", "community", "cell")}


def install_city(conn: psycopg.Connection, city: City = CITY) -> dict[str, int]:
    """Install the city grid (after the demo city; nothing else of the bench's) and analyze
    the areas; returns the count stored at each level."""
    with conn.transaction():
        counts = insert_city(conn, city)
    conn.execute("VACUUM ANALYZE areas")
    return counts
