"""Use case: import a grid file (validate everything first, then write it all or nothing)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import shapely
from shapely import wkb as shapely_wkb
from sqlalchemy.orm import Session
from tqdm import tqdm

from ..errors import AppError
from ..tables import ImportRejected, RowError, read_rows
from . import queries
from .rules import (
    ADDRESS_COLUMNS,
    ADDRESS_REQUIRED,
    ADDRESS_SEARCH_LIMIT,
    Problem,
    address_head,
    address_key,
    area_chain,
    parent_code,
    parse_feature_collection,
    validate_areas,
)

CHUNK = 1000


@dataclass
class ImportResult:
    written: int = 0
    created_ancestors: int = 0  # ancestors the file lacks, made from their children
    recomputed_ancestors: int = 0  # ancestors derived before, made anew with the file's children
    problems: list[Problem] = field(default_factory=list)
    levels: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def import_grid(session: Session, path: Path | str, *, dry_run: bool = False,
                progress: bool = False) -> ImportResult:
    """Validate a GeoJSON grid file against itself and the stored grid, then upsert by code,
    with the ancestors derived from their children (new ones, and those derived before, which
    grow with the file's children), in one transaction.

    Returns the result with every problem found; if there is any, nothing is written (the
    transaction is rolled back, its lock released). Does not commit: the caller owns it.
    """
    result = ImportResult()
    try:
        obj = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        result.problems.append(Problem(None, "file.unreadable", f"cannot read {path}: {exc}",
                                       None))
        return result
    areas, problems = parse_feature_collection(obj)
    result.problems.extend(problems)  # and go on: every problem of the file is reported at once
    queries.lock_grid(session)  # held to the commit: the grid checked is the grid written to
    # the file's districts, and whatever lies in its box: overlaps are checked against every
    # stored area, a neighbouring district's cells as much as the file's own district's
    bbox = tuple(shapely.total_bounds([a.boundary for a in areas])) if areas else None
    stored = queries.existing_areas(session, {a.code for a in areas}, bbox)
    existing = {code: (level, shapely_wkb.loads(bytes(raw))) for code, level, _, raw in stored}
    derived = {code for code, _, is_derived, _ in stored if is_derived}
    to_write, problems = validate_areas(areas, existing, derived=derived)
    result.problems.extend(problems)
    if result.problems:  # a problem of parsing as much as of validation: nothing is written
        session.rollback()  # and the lock is released
        return result
    in_file = {a.code for a in areas}
    for a in to_write:
        if a.code in in_file:
            continue
        if a.code in existing:
            result.recomputed_ancestors += 1
        else:
            result.created_ancestors += 1
    for a in to_write:
        result.levels[a.level] = result.levels.get(a.level, 0) + 1
    if dry_run:
        result.written = 0
        session.rollback()
        return result
    # validated: every cell has the same length
    cell_len = next((len(a.code) for a in to_write if a.level == "cell"), 15)
    rows = [{"code": a.code, "level": a.level, "parent_code": parent_code(a.code, cell_len),
             "name": a.name, "name_en": a.name_en, "wkb": a.boundary.wkb,
             "derived": a.code not in in_file} for a in to_write]
    bar = None
    if progress and len(rows) > CHUNK:
        bar = tqdm(total=len(rows), unit="area", desc="importing")
    try:
        for i in range(0, len(rows), CHUNK):
            queries.upsert_areas(session, rows[i:i + CHUNK])
            if bar:
                bar.update(len(rows[i:i + CHUNK]))
    finally:
        if bar:
            bar.close()
    result.written = len(rows)
    return result


# the most areas GET /cells answers at once
MAX_FEATURES = 5000


def areas_in_box(session: Session, bbox, *, level: str, prefix: str) -> list[dict]:
    """The areas of one level in a box (and under a code prefix) as GeoJSON features.
    Raises AppError grid.bbox_too_large past MAX_FEATURES."""
    rows = queries.areas_in_box(session, bbox, level=level, prefix=prefix,
                                limit=MAX_FEATURES + 1)
    if len(rows) > MAX_FEATURES:
        raise AppError("grid.bbox_too_large",
                       f"More than {MAX_FEATURES} areas in this box; zoom in or filter "
                       "by prefix.", {"bbox": ["Too many areas in this box."]})
    return [{
        "type": "Feature", "id": r["code"], "geometry": r["geometry"],
        "properties": {"code": r["code"], "name": r["name"], "name_en": r["name_en"],
                       "level": r["level"], "parent_code": r["parent_code"]},
    } for r in rows]


def locate_point(session: Session, lon: float, lat: float) -> dict:
    """Which cell (else smallest area) a point falls in, by the same rule as intake, with the
    area chain named: {outside_grid, area_code, district, street, community, cell}."""
    hit = queries.locate(session, lon, lat)
    code = hit.code if hit else None
    chain = area_chain(code)
    names = queries.area_names(session, [c for c in chain.values() if c])
    out: dict = {"outside_grid": hit is None or hit.level != "cell", "area_code": code}
    for level, c in chain.items():
        area = names.get(c) if c else None
        out[level] = (None if area is None else
                      {"code": c, "name": area["name"], "name_en": area["name_en"]})
    return out


def resolve_address(session: Session, address: str) -> dict | None:
    """Where a typed address lies: an address point (门牌) when the typed text is one, contains
    one, or is part of exactly one; else, as far as the grid's names tell, the smallest area
    named in it and a point inside that area. {code, level, name, lon, lat, source ("address"
    or "area"), address, address_id}, or None."""
    key = address_key(address)
    for k in (key, address_head(key)):  # the whole, then its 门牌 without building and unit
        if k is None or len(k) < 2:
            continue
        found = queries.search_addresses(session, k, address.strip().lower(), 2)
        if found and (found[0]["exact"] or found[0]["named_in_typed"] or len(found) == 1):
            return _address_place(found[0])
    row = queries.find_area_named_in(session, address.strip())
    return {**dict(row), "source": "area", "address": None, "address_id": None} if row else None


def _address_place(r) -> dict:
    return {"code": r["area_code"], "level": r["level"], "name": r["area_name"],
            "name_en": r["area_name_en"], "lon": r["lon"], "lat": r["lat"],
            "source": "address", "address": r["address"], "address_en": r["address_en"],
            "address_id": r["id"]}


def search_addresses(session: Session, q: str, *, limit: int = ADDRESS_SEARCH_LIMIT) -> list[dict]:
    """The address points (门牌) matching a typed address, best first, each with its point and
    the area (cell) it lies in."""
    key = address_key(q)
    if not key:
        return []
    return [_address_place(r)
            for r in queries.search_addresses(session, key, q.strip().lower(), limit)]


def address_point(session: Session, point_id: int) -> dict | None:
    row = queries.find_address_point(session, point_id)
    return _address_place(row) if row else None


def import_addresses(session: Session, data: bytes, *, replace: bool = False) -> dict:
    """Import address points (门牌) from CSV or XLSX: address, address_en, lon, lat (WGS 84).
    Every row is checked first — a missing or overlong address, a coordinate that is no number
    or out of range, an address twice, a point outside the grid — and a file with any problem
    imports nothing. With `replace` the file is the whole set. Returns {"addresses": n}.
    Raises ImportRejected."""
    rows = read_rows(data, ADDRESS_COLUMNS, required=ADDRESS_REQUIRED)
    errors: list[RowError] = []
    points: list[dict] = []
    seen: dict[str, int] = {}
    for line, r in rows:
        bad = len(errors)
        key = address_key(r["address"])
        if len(key) < 2:
            errors.append(RowError(line, "address", "import.required", "An address is required."))
        elif len(r["address"]) > 200:
            errors.append(RowError(line, "address", "import.too_long", "At most 200 characters."))
        elif key in seen:
            errors.append(RowError(line, "address", "import.duplicate_row",
                                   f"The same address is on line {seen[key]} already."))
        coords = {}
        for name, bound in (("lon", 180), ("lat", 90)):
            try:
                value = float(r[name])
            except ValueError:
                errors.append(RowError(line, name, "import.bad_number", "A decimal number."))
                continue
            if not math.isfinite(value) or abs(value) > bound:
                errors.append(RowError(line, name, "address.out_of_range",
                                       f"WGS 84 degrees within ±{bound}."))
                continue
            coords[name] = value
        if len(errors) > bad:
            continue
        seen[key] = line
        points.append({"i": line, "address": r["address"], "address_key": key,
                       "address_en": r.get("address_en") or None, **coords})
    for line in sorted(queries.points_outside(session, [
            {"i": p["i"], "lon": p["lon"], "lat": p["lat"]} for p in points])):
        errors.append(RowError(line, "lon", "address.outside_grid",
                               "No area of the grid covers this point."))
    if errors:
        raise ImportRejected(errors)
    queries.upsert_addresses(session, points, replace=replace)
    return {"addresses": len(points)}
