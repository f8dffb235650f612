"""Tile SQL: ST_AsMVT over the cases the caller may see, filtered like the case list."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from ..cases.queries import case_filter_sql
from ..users.rules import Principal


def _filters(principal: Principal, f: dict, params: dict) -> str:
    cond = case_filter_sql(
        principal, params, statuses=f.get("statuses"), category=f.get("category"),
        department=f.get("department"), area_prefix=f.get("area"), source=f.get("source"),
        overdue=True if f.get("overdue") else None, received_from=f.get("received_from"),
        received_to=f.get("received_to"))
    if f.get("statuses"):
        return cond
    # the map shows open cases unless asked otherwise; said the way the partial index
    # ix_reports_open_cell is, so the planner can use it
    return cond + " AND r.status NOT IN ('closed', 'rejected', 'duplicate')"


_BOUNDS = """
    bounds AS (
        SELECT ST_TileEnvelope(:z, :x, :y) AS b3857,
               ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 0.015625), 4326) AS b4326
    )
"""


def cases_layer(cond: str) -> str:
    return f"""
    cases AS (
        SELECT ST_AsMVTGeom(ST_Transform(r.location, 3857), bounds.b3857) AS geom,
               r.id::text AS id, r.number, r.status, r.category_code AS category,
               r.overdue, r.department_code AS department, r.stage, r.source,
               to_char(r.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS due_at
          FROM reports r, bounds
         WHERE r.location && bounds.b4326 AND {cond}
         LIMIT 20000
    )"""


def cells_layer(cond: str) -> str:
    return f"""
    cell_counts AS (
        SELECT r.cell_code AS code, count(*) AS cases,
               count(*) FILTER (WHERE r.overdue) AS overdue
          FROM reports r, bounds
         WHERE r.location && bounds.b4326 AND r.cell_code IS NOT NULL AND {cond}
         GROUP BY r.cell_code
    ),
    cells AS (
        SELECT ST_AsMVTGeom(a.boundary_3857, bounds.b3857) AS geom,
               a.code, a.name, c.cases, c.overdue
          FROM cell_counts c JOIN areas a ON a.code = c.code, bounds
    )"""


def areas_layer(cond: str, level_len: int) -> str:
    return f"""
    area_counts AS (
        -- whole-area counts, found through the open-cases index rather than by scanning
        -- every point of the city in the tile's box; the tile keeps the areas it touches
        SELECT left(r.area_code, {level_len}) AS code, count(*) AS cases,
               count(*) FILTER (WHERE r.overdue) AS overdue
          FROM reports r
         WHERE length(r.area_code) >= {level_len} AND {cond}
         GROUP BY 1
    ),
    areas_l AS (
        -- the shapes made once when the boundary was written (areas.outline_3857, label_*)
        SELECT ST_AsMVTGeom(a.outline_3857, bounds.b3857) AS geom,
               a.code, a.name, a.level, c.cases, c.overdue, a.label_lon, a.label_lat
          FROM area_counts c JOIN areas a ON a.code = c.code, bounds
         WHERE a.boundary && bounds.b4326
    )"""


GRID_LAYER = """
    grid AS (
        SELECT ST_AsMVTGeom(a.boundary_3857, bounds.b3857) AS geom,
               a.code, a.name
          FROM areas a, bounds
         WHERE a.level = 'cell' AND a.boundary && bounds.b4326
         LIMIT 20000
    )"""


def tile(session: Session, principal: Principal, z: int, x: int, y: int, layers: list[str],
         area_level: str, filters: dict) -> bytes:
    """One Mapbox Vector Tile with the given layers; empty bytes for an empty tile."""
    params: dict = {"z": z, "x": x, "y": y}
    cond = _filters(principal, filters, params)
    ctes = [_BOUNDS]
    selects = []
    if "cases" in layers:
        ctes.append(cases_layer(cond))
        selects.append("(SELECT coalesce(ST_AsMVT(cases.*, 'cases'), '') FROM cases)")
    if "cells" in layers:
        ctes.append(cells_layer(cond))
        selects.append("(SELECT coalesce(ST_AsMVT(cells.*, 'cells'), '') FROM cells)")
    if "areas" in layers:
        ctes.append(areas_layer(cond, 12 if area_level == "community" else 9))
        selects.append("(SELECT coalesce(ST_AsMVT(areas_l.*, 'areas'), '') FROM areas_l)")
    if "grid" in layers:
        ctes.append(GRID_LAYER)
        selects.append("(SELECT coalesce(ST_AsMVT(grid.*, 'grid'), '') FROM grid)")
    sql = "WITH " + ",".join(ctes) + " SELECT " + " || ".join(selects)
    data = session.execute(text(sql), params).scalar()
    return bytes(data or b"")
