"""Use case: import a grid file (validate everything first, then write it all or nothing)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import shapely
from shapely import wkb as shapely_wkb
from sqlalchemy.orm import Session
from tqdm import tqdm

from ..errors import AppError
from . import queries
from .rules import Problem, area_chain, parent_code, parse_feature_collection, validate_areas

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
    """Where a typed address lies, as far as the grid's names tell: the smallest area named
    in it and a point inside that area ({code, level, name, lon, lat}), or None."""
    row = queries.find_area_named_in(session, address.strip())
    return dict(row) if row else None
