"""SQL for the grid: the point lookup, area chains, cells in a box as GeoJSON, and the upsert of
imported areas."""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.orm import Session

from .. import clock
from .rules import PREFIX_LENGTH, address_within

# The cell lookup (invariant 3): indexed ST_Covers, cells first; a point on an edge shared by
# two cells (or a vertex shared by four) goes to the lowest code. A point in no cell falls back
# to the smallest area covering it (community, then street, then district). Parameters :lon
# and :lat; yields `hit (code, level)` with at most one row.
LOCATE_CTE = """
    pt AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g),
    hit AS (
        (SELECT a.code, a.level FROM areas a, pt
          WHERE a.level = 'cell' AND ST_Covers(a.boundary, pt.g)
          ORDER BY a.code LIMIT 1)
        UNION ALL
        (SELECT a.code, a.level FROM areas a, pt
          WHERE a.level <> 'cell' AND ST_Covers(a.boundary, pt.g)
          ORDER BY length(a.code) DESC, a.code LIMIT 1)
        LIMIT 1
    )
"""


def chain_sql(code: str, level: str) -> dict[str, str]:
    """SQL expressions for the area chain of the area code `code` whose level is `level`
    (both SQL expressions): the same hierarchy as rules.area_chain, for use inside a statement."""
    out = {lvl: f"CASE WHEN length({code}) >= {n} THEN left({code}, {n}) END"
           for lvl, n in PREFIX_LENGTH.items()}
    out["cell"] = f"CASE WHEN {level} = 'cell' THEN {code} END"
    return out


def locate(session: Session, lon: float, lat: float):
    """The smallest area covering the point: a row (code, level), or None."""
    return session.execute(text(f"WITH {LOCATE_CTE} SELECT code, level FROM hit"),
                           {"lon": lon, "lat": lat}).first()

_CHAIN = text("""
    SELECT code, level, name, name_en FROM areas WHERE code = ANY(:codes)
""")


def area_names(session: Session, codes: list[str]) -> dict[str, dict]:
    rows = session.execute(_CHAIN, {"codes": codes}).mappings().all()
    return {r["code"]: dict(r) for r in rows}


_CELLS_IN_BOX = text("""
    SELECT code, name, name_en, level, parent_code,
           ST_AsGeoJSON(boundary, 7)::json AS geometry
      FROM areas
     WHERE level = :level
       AND boundary && ST_MakeEnvelope(:minlon, :minlat, :maxlon, :maxlat, 4326)
       AND (:prefix = '' OR code LIKE :prefix || '%')
     ORDER BY code
     LIMIT :limit
""")


def areas_in_box(session: Session, bbox, *, level: str, prefix: str, limit: int):
    minlon, minlat, maxlon, maxlat = bbox
    return session.execute(_CELLS_IN_BOX, {
        "minlon": minlon, "minlat": minlat, "maxlon": maxlon, "maxlat": maxlat,
        "level": level, "prefix": prefix, "limit": limit}).mappings().all()


_EXISTING = text("""
    SELECT code, level, derived, ST_AsBinary(boundary) AS wkb
      FROM areas
     WHERE code LIKE ANY(:patterns)
        OR boundary && ST_MakeEnvelope(:minlon, :minlat, :maxlon, :maxlat, 4326)
""")


def existing_areas(session: Session, codes: set[str], bbox) -> list:
    """(code, level, derived, WKB) of the stored areas an import must be checked against: every
    area of the districts of `codes` (their ancestors, siblings and children), and every area,
    whatever its code, whose box meets `bbox` (minlon, minlat, maxlon, maxlat) — a neighbouring
    district's cells too (the indexed `&&`)."""
    if not codes:
        return []
    minlon, minlat, maxlon, maxlat = bbox
    return session.execute(_EXISTING, {
        "patterns": sorted({c[:6] + "%" for c in codes}),
        "minlon": minlon, "minlat": minlat, "maxlon": maxlon, "maxlat": maxlat}).all()


def lock_grid(session: Session) -> None:
    """Serialize grid imports: between reading the stored grid and writing the file, no other
    import changes it (a transaction-scoped advisory lock, released at commit or rollback)."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('gridsnap.import_grid'))"))


UPSERT_AREA = text("""
    INSERT INTO areas (code, level, parent_code, name, name_en, boundary, derived, created_at,
                       updated_at)
    VALUES (:code, :level, :parent_code, :name, :name_en,
            ST_Multi(ST_GeomFromWKB(:wkb, 4326)), :derived, :now, :now)
    ON CONFLICT (code) DO UPDATE
       SET level = EXCLUDED.level, parent_code = EXCLUDED.parent_code, name = EXCLUDED.name,
           name_en = EXCLUDED.name_en, boundary = EXCLUDED.boundary, derived = EXCLUDED.derived,
           updated_at = EXCLUDED.updated_at
""")


def upsert_areas(session: Session, rows: list[dict]) -> None:
    now = clock.now()
    session.execute(UPSERT_AREA, [{**row, "now": now} for row in rows])


_BY_NAME = text("""
    SELECT code, level, name, ST_X(ST_PointOnSurface(boundary)) AS lon,
           ST_Y(ST_PointOnSurface(boundary)) AS lat
      FROM areas
     WHERE strpos(:address, name) > 0 AND char_length(name) >= 2
     ORDER BY length(code) DESC, char_length(name) DESC, code
     LIMIT 1
""")


def find_area_named_in(session: Session, address: str):
    """The smallest area whose name the address contains (a cell before a community, a street,
    a district), with a point inside it: a row (code, level, name, lon, lat), or None."""
    return session.execute(_BY_NAME, {"address": address}).mappings().first()


# --- address points (门牌) ----------------------------------------------------------------------

_OUTSIDE = text("""
    SELECT p.i FROM jsonb_to_recordset(CAST(:points AS jsonb)) AS p(i int, lon float8, lat float8)
     WHERE NOT EXISTS (SELECT 1 FROM areas a
                        WHERE ST_Covers(a.boundary, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)))
""")


def points_outside(session: Session, points: list[dict]) -> set[int]:
    """Which of the points ({i, lon, lat}) no area of the grid covers."""
    if not points:
        return set()
    return set(session.execute(_OUTSIDE, {"points": json.dumps(points)}).scalars())


_UPSERT_ADDRESSES = text("""
    INSERT INTO address_points (address, address_key, address_en, address_en_key, location,
                                area_code, updated_at)
    SELECT p.address, p.address_key, p.address_en, lower(p.address_en), g.pt, hit.code, :now
      FROM jsonb_to_recordset(CAST(:points AS jsonb))
           AS p(address text, address_key text, address_en text, lon float8, lat float8)
      CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326) AS pt) g
      CROSS JOIN LATERAL (
          SELECT a.code FROM areas a WHERE ST_Covers(a.boundary, g.pt)
           ORDER BY (a.level = 'cell') DESC, length(a.code) DESC, a.code LIMIT 1) hit
    ON CONFLICT (address_key) DO UPDATE
       SET address = EXCLUDED.address, address_en = EXCLUDED.address_en,
           address_en_key = EXCLUDED.address_en_key,
           location = EXCLUDED.location, area_code = EXCLUDED.area_code,
           updated_at = EXCLUDED.updated_at
""")


def upsert_addresses(session: Session, points: list[dict], *, replace: bool) -> int:
    """Write the address points, each with the smallest area covering it (a cell, else the
    lowest code on a shared edge: the intake's rule); with `replace` the others go."""
    if replace:
        session.execute(text("DELETE FROM address_points WHERE NOT (address_key = ANY(:keys))"),
                        {"keys": [p["address_key"] for p in points]})
    if not points:
        return 0
    return session.execute(_UPSERT_ADDRESSES, {"points": json.dumps(points, ensure_ascii=False),
                                               "now": clock.now()}).rowcount


_ADDRESS_COLUMNS = """
    p.id, p.address, p.address_en, ST_X(p.location) AS lon, ST_Y(p.location) AS lat,
    p.area_code, a.level, a.name AS area_name, a.name_en AS area_name_en
"""

_SEARCH_ADDRESSES = text(f"""
    SELECT {_ADDRESS_COLUMNS},
           (p.address_key = :key) AS exact,
           (p.address_key = ANY(:within)) AS named_in_typed
      FROM address_points p JOIN areas a ON a.code = p.area_code
     WHERE p.address_key LIKE :containing OR p.address_key = ANY(:within)
           OR p.address_en_key LIKE :english
     ORDER BY (p.address_key = :key) DESC, (p.address_key = ANY(:within)) DESC,
              CASE WHEN p.address_key = ANY(:within) THEN -char_length(p.address_key)
                   ELSE char_length(p.address_key) END,
              p.address_key
     LIMIT :limit
""")


def search_addresses(session: Session, key: str, lower: str, limit: int):
    """Address points matching a typed address: the same one first, then those whose whole
    address the typed text contains (longest first: `rules.address_within`), then those
    containing the typed text (shortest first; the trigram index finds them), or whose English
    address does."""
    english = lower.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return session.execute(_SEARCH_ADDRESSES, {
        "key": key, "containing": f"%{key}%", "within": address_within(key),
        "english": f"%{english}%" if english else "", "limit": limit}).mappings().all()


def find_address_point(session: Session, point_id: int):
    return session.execute(text(f"""
        SELECT {_ADDRESS_COLUMNS} FROM address_points p JOIN areas a ON a.code = p.area_code
         WHERE p.id = :id"""), {"id": point_id}).mappings().first()


def address_count(session: Session) -> int:
    return session.execute(text("SELECT count(*) FROM address_points")).scalar_one()
