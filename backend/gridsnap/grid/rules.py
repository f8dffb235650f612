"""Grid import rules: read a GeoJSON grid, check its codes and shapes, derive missing parents."""

from __future__ import annotations

import math
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.errors import GEOSException
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

# The hierarchy of area codes, defined once: each level's code extends its parent's, so the
# area chain of any code is its prefixes of these lengths (a cell has 14 or 15 digits).
AREA_LEVELS = ("district", "street", "community", "cell")
PREFIX_LENGTH = {"district": 6, "street": 9, "community": 12}
CELL_CODE_LENGTHS = (14, 15)
# how a point on the map was found: the device's GPS, its network position, or set by hand
LOCATION_SOURCES = ("gps", "network", "manual")
LEVELS: dict[int, str] = {**{n: lvl for lvl, n in PREFIX_LENGTH.items()},
                          **dict.fromkeys(CELL_CODE_LENGTHS, "cell")}
LEVEL_RANK = {level: i for i, level in enumerate(AREA_LEVELS)}
_PARENT_LENGTH = {"street": PREFIX_LENGTH["district"], "community": PREFIX_LENGTH["street"],
                  "cell": PREFIX_LENGTH["community"]}

# Overlaps smaller than this are float noise of shared edges, not two cells claiming one spot.
OVERLAP_TOLERANCE_M2 = 0.01
# A child may stick out of its parent by this much: 1 cm of misalignment along a 100 m edge.
OUTSIDE_TOLERANCE_M2 = 1.0

# Problem kinds: stable strings that callers and tests match on.
COLLECTION_INVALID = "collection.invalid"
COLLECTION_CRS = "collection.crs"
FEATURE_INVALID = "feature.invalid"
FEATURE_MISSING_FIELD = "feature.missing_field"
FEATURE_FIELD_TYPE = "feature.field_type"
GEOMETRY_TYPE = "geometry.type"
GEOMETRY_MALFORMED = "geometry.malformed"
GEOMETRY_EMPTY = "geometry.empty"
GEOMETRY_INVALID = "geometry.invalid"
GEOMETRY_OUT_OF_RANGE = "geometry.out_of_range"
CODE_FORMAT = "code.format"
CODE_LENGTH = "code.length"
CODE_LEVEL = "code.level"
CODE_DUPLICATE = "code.duplicate"
CELL_MIXED_LENGTHS = "cell.mixed_lengths"
CELL_OVERLAP = "cell.overlap"
AREA_OVERLAP = "area.overlap"  # two communities, streets or districts
CELL_OUTSIDE_PARENT = "cell.outside_parent"
AREA_OUTSIDE_PARENT = "area.outside_parent"  # a community or street outside its parent

# GeoJSON "crs" names (a 2008 GeoJSON member, still written by GDAL/QGIS) that mean lon/lat
# degrees. CGCS2000 (EPSG:4490, China's datum) is within centimetres of WGS84. GCJ-02, the
# shifted datum of AMap/Tencent basemaps, cannot be told from WGS84 by looking at numbers.
_LONLAT_CRS_MARKERS = ("CRS84", "EPSG::4326", "EPSG:4326", "EPSG::4490", "EPSG:4490")


@dataclass
class AreaIn:
    """One area to import; `boundary` is a valid MultiPolygon in EPSG:4326 (lon, lat)."""

    code: str
    name: str
    name_en: str | None
    level: str | None
    boundary: MultiPolygon
    feature_index: int | None = None  # position in the file; None for a derived ancestor


@dataclass(frozen=True)
class Problem:
    """Why (part of) a grid file cannot be imported; `message` is a sentence for people."""

    code: str | None
    kind: str
    message: str
    feature_index: int | None


def level_of(code: object) -> str | None:
    """Return "district", "street", "community" or "cell" by the code's length.

    None unless `code` is a string of 6, 9, 12, 14 or 15 ASCII digits.
    """
    if not isinstance(code, str) or not (code.isascii() and code.isdigit()):
        return None
    return LEVELS.get(len(code))


def parent_code(code: str, cell_code_length: int) -> str | None:
    """Return the code of the area directly above `code`: a cell's community is its 12 digits.

    None for a district, and for anything that is not an area code in a deployment whose cell
    codes have `cell_code_length` (14 or 15) digits. Raises ValueError for another length.
    """
    if cell_code_length not in CELL_CODE_LENGTHS:
        raise ValueError(f"cell codes have 14 or 15 digits, not {cell_code_length}")
    level = level_of(code)
    if level is None or level == "district":
        return None
    if level == "cell" and len(code) != cell_code_length:
        return None
    return code[: _PARENT_LENGTH[level]]


def _ancestor_codes(code: str) -> list[str]:
    """Codes above `code`, nearest first: a cell's community, street and district."""
    return [code[:n] for n in sorted(PREFIX_LENGTH.values(), reverse=True) if n < len(code)]


def area_chain(code: str | None) -> dict[str, str | None]:
    """The codes of the areas at and above an area code, by level: district, street,
    community and cell (None where the code does not reach that level, all None for None)."""
    chain: dict[str, str | None] = dict.fromkeys(AREA_LEVELS)
    if not code:
        return chain
    for level, n in PREFIX_LENGTH.items():
        if len(code) >= n:
            chain[level] = code[:n]
    if len(code) >= min(CELL_CODE_LENGTHS):
        chain["cell"] = code
    return chain


# --- reading a GeoJSON file -------------------------------------------------------------------


def parse_feature_collection(obj: object) -> tuple[list[AreaIn], list[Problem]]:
    """Read a GeoJSON FeatureCollection of areas; return the readable areas and the problems.

    Each feature needs properties `code` (string or integer) and `name`, optionally
    `name_en`, and a Polygon or MultiPolygon geometry (holes allowed), which is returned as a
    MultiPolygon. A feature with any problem is left out of the areas. Never raises on bad input.
    """
    if not isinstance(obj, Mapping) or obj.get("type") != "FeatureCollection":
        found = obj.get("type") if isinstance(obj, Mapping) else type(obj).__name__
        return [], [Problem(None, COLLECTION_INVALID,
                            f"the file is not a GeoJSON FeatureCollection (found {found!r})", None)]
    features = obj.get("features")
    if not isinstance(features, list):
        return [], [Problem(None, COLLECTION_INVALID,
                            'the FeatureCollection has no "features" list', None)]
    problems: list[Problem] = []
    crs_name = _crs_name(obj.get("crs"))
    if crs_name is not None and not any(m in crs_name.upper() for m in _LONLAT_CRS_MARKERS):
        problems.append(Problem(None, COLLECTION_CRS,
                                f"the file declares coordinate system {crs_name!r}; "
                                "export it as EPSG:4326 (WGS84 longitude, latitude)", None))
    areas: list[AreaIn] = []
    for index, feature in enumerate(features):
        area, feature_problems = _parse_feature(index, feature)
        problems += feature_problems
        if area is not None:
            areas.append(area)
    return areas, problems


def _crs_name(crs: object) -> str | None:
    if crs is None:
        return None
    if isinstance(crs, Mapping) and isinstance(crs.get("properties"), Mapping):
        name = crs["properties"].get("name")
        if isinstance(name, str):
            return name
    return repr(crs)


def _parse_feature(index: int, feature: object) -> tuple[AreaIn | None, list[Problem]]:
    where = f"feature [{index}]"
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        return None, [Problem(None, FEATURE_INVALID, f"{where} is not a GeoJSON Feature", index)]
    props = feature.get("properties")
    if props is None:
        props = {}
    if not isinstance(props, Mapping):
        return None, [Problem(None, FEATURE_INVALID,
                              f'{where} has "properties" that are not an object', index)]
    problems: list[Problem] = []

    code = props.get("code")
    if isinstance(code, int) and not isinstance(code, bool):
        code = str(code)
    if isinstance(code, str):
        code = code.strip()
    if code is None or code == "":
        problems.append(Problem(None, FEATURE_MISSING_FIELD, f'{where} has no "code"', index))
        code = None
    elif not isinstance(code, str):
        problems.append(Problem(None, FEATURE_FIELD_TYPE,
                                f'{where} has a "code" that is neither text nor an integer: '
                                f"{code!r}", index))
        code = None
    if code is not None:
        where = f"{where} (code {code})"

    name = props.get("name")
    if isinstance(name, str):
        name = name.strip()
    if name is None or name == "":
        problems.append(Problem(code, FEATURE_MISSING_FIELD, f'{where} has no "name"', index))
    elif not isinstance(name, str):
        problems.append(Problem(code, FEATURE_FIELD_TYPE,
                                f'{where} has a "name" that is not text: {name!r}', index))

    name_en = props.get("name_en")
    if isinstance(name_en, str):
        name_en = name_en.strip() or None
    elif name_en is not None:
        problems.append(Problem(code, FEATURE_FIELD_TYPE,
                                f'{where} has a "name_en" that is not text: {name_en!r}', index))

    boundary, geometry_problem = _parse_geometry(feature.get("geometry"), where)
    if geometry_problem is not None:
        kind, message = geometry_problem
        problems.append(Problem(code, kind, message, index))

    if problems:
        return None, problems
    assert code is not None and isinstance(name, str) and boundary is not None
    return AreaIn(code, name, name_en, level_of(code), boundary, index), []


def _parse_geometry(geometry: object, where: str) -> tuple[MultiPolygon | None, tuple | None]:
    """Return (boundary, None) or (None, (kind, message))."""
    if geometry is None:
        return None, (FEATURE_MISSING_FIELD, f"{where} has no geometry")
    if not isinstance(geometry, Mapping):
        return None, (GEOMETRY_MALFORMED, f"{where} has a geometry that is not an object")
    gtype = geometry.get("type")
    if gtype not in ("Polygon", "MultiPolygon"):
        return None, (GEOMETRY_TYPE,
                      f"{where} is a {gtype!r}; an area must be a Polygon or MultiPolygon")
    try:
        geom = shapely.force_2d(shape(geometry))
    except Exception as exc:  # shapely raises many kinds for bad coordinate arrays
        return None, (GEOMETRY_MALFORMED, f"{where} has unreadable coordinates: {exc}")
    if geom.is_empty:
        return None, (GEOMETRY_EMPTY, f"{where} has an empty geometry")
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        return None, (GEOMETRY_OUT_OF_RANGE,
                      f"{where} has coordinates outside longitude/latitude range "
                      f"({minx:g}, {miny:g}, {maxx:g}, {maxy:g}); the grid must be in "
                      "EPSG:4326 as (longitude, latitude)")
    if not geom.is_valid:
        return None, (GEOMETRY_INVALID,
                      f"{where} has an invalid geometry: {explain_validity(geom)}")
    return _as_multipolygon(geom), None


def _as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    # union_all of polygons can return a GeometryCollection holding lines where shapes touch
    polygons = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon | MultiPolygon)]
    parts = [p for g in polygons for p in (g.geoms if isinstance(g, MultiPolygon) else [g])]
    return MultiPolygon(parts)


# --- distance ----------------------------------------------------------------------------------

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle (haversine) distance in metres between two WGS 84 points, mean Earth radius."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))


# --- area in square metres --------------------------------------------------------------------

# WGS84 ellipsoid. Areas are measured in the Lambert cylindrical equal-area projection on the
# ellipsoid (x = R_q·λ, y = R_q·sin β with β the authalic latitude): exact for shapes bounded
# by meridians and parallels, and within far less than 0.1% for any cell- or street-sized shape.
_A = 6378137.0
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)
_E = math.sqrt(_E2)


def _q(sin_phi: np.ndarray) -> np.ndarray:
    return (1 - _E2) * (sin_phi / (1 - _E2 * sin_phi**2) + np.arctanh(_E * sin_phi) / _E)


_QP = float(_q(np.array(1.0)))
_RQ = _A * math.sqrt(_QP / 2)  # authalic radius


def _equal_area_xy(coords: np.ndarray) -> np.ndarray:
    lam = np.radians(coords[:, 0])
    q = _q(np.sin(np.radians(coords[:, 1])))
    # Shift to the first point: areas are unchanged, and the shoelace sums keep their precision.
    x = _RQ * (lam - lam[0])
    y = _RQ * (q - q[0]) / _QP
    return np.column_stack([x, y])


def areas_m2(geoms: Sequence[BaseGeometry] | np.ndarray) -> np.ndarray:
    """Return the area in m² of each lon/lat geometry (lines and points have 0)."""
    geoms = np.asarray(geoms, dtype=object)
    if geoms.size == 0:
        return np.zeros(0)
    return shapely.area(shapely.transform(geoms, _equal_area_xy))


def area_m2(geom: BaseGeometry) -> float:
    """Return the area in m² of one lon/lat geometry."""
    return float(areas_m2([geom])[0])


def _overlay(op, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return op(a, b) pairwise (shapely.intersection or difference).

    A pair that GEOS cannot node exactly (a TopologyException on valid but nearly coincident
    input) is redone with snap-rounding to 1e-9° (0.1 mm), which always succeeds.
    """
    try:
        return op(a, b)
    except GEOSException:
        out = np.empty(len(a), dtype=object)
        for k in range(len(a)):
            try:
                out[k] = op(a[k], b[k])
            except GEOSException:
                out[k] = op(a[k], b[k], grid_size=1e-9)
        return out


def _fmt_m2(value: float) -> str:
    return f"{value:.1f} m²" if value >= 1 else f"{value:.2f} m²"


# --- validating a set of areas ----------------------------------------------------------------


def validate_areas(
    areas: list[AreaIn],
    existing: Mapping[str, tuple[str, BaseGeometry]] | None = None,
    *,
    derived: Collection[str] = frozenset(),
    overlap_tolerance_m2: float = OVERLAP_TOLERANCE_M2,
    outside_tolerance_m2: float = OUTSIDE_TOLERANCE_M2,
) -> tuple[list[AreaIn], list[Problem]]:
    """Check areas about to be imported; return the areas to write and the problems found.

    `existing` maps the codes already in the database to (level, boundary); an area in
    `areas` with the same code replaces it. The checks: codes are 6/9/12/14/15 digits, unique
    in the file, and all cells (file and existing) have one length; no two areas of one level
    overlap by more than `overlap_tolerance_m2` (touching is fine); every area lies inside its
    nearest ancestor that has a boundary (in the file or existing) up to
    `outside_tolerance_m2`, and a replaced parent still covers its existing children.

    `derived` holds the codes in `existing` that an earlier import derived from their children
    (rather than read from a file): such an ancestor of an area in the file is recomputed as the
    union of all its children, stored and new, so a city can be imported street by street. An
    area in `existing` that is not derived is never recomputed, and an area is checked against
    its nearest ancestor that is not derived (a derived one covers its children by making).

    The areas returned are the good input areas plus every ancestor to derive — missing (in
    neither the file nor `existing`) or derived before — made as the union of its children and
    named by its code (`feature_index` None); ordered district, street, community, cell, then
    by code, so parents come before children. When problems are returned the caller should
    write nothing.
    """
    existing = existing or {}
    problems: list[Problem] = []
    good = _check_codes(areas, problems)
    _check_cell_lengths(good, existing, problems)
    created = _derive_ancestors(good, existing, derived)
    _check_overlaps(good, created, existing, problems, overlap_tolerance_m2)
    _check_inside_ancestors(good, existing, derived, problems, outside_tolerance_m2)
    _check_replaced_parents_cover_children(good, existing, problems, outside_tolerance_m2)
    result = [*good.values(), *created.values()]
    result.sort(key=lambda a: (LEVEL_RANK[a.level or "cell"], a.code))
    return result, problems


def _label(area: AreaIn) -> str:
    if area.feature_index is None:
        return f"{area.code} (derived from its children)"
    return f"{area.code} (feature [{area.feature_index}])"


def _check_codes(areas: list[AreaIn], problems: list[Problem]) -> dict[str, AreaIn]:
    """Return the areas with a well-formed, unique code and a usable boundary, by code."""
    good: dict[str, AreaIn] = {}
    for area in areas:
        code, index = area.code, area.feature_index
        where = f"feature [{index}]" if index is not None else "an area"
        if not isinstance(code, str) or not (code.isascii() and code.isdigit()):
            problems.append(Problem(code if isinstance(code, str) else None, CODE_FORMAT,
                                    f"{where} has code {code!r}, which is not all digits", index))
            continue
        level = LEVELS.get(len(code))
        if level is None:
            problems.append(Problem(
                code, CODE_LENGTH,
                f"code {code} in {where} has {len(code)} digits; an area code has 6 (district), "
                "9 (street), 12 (community) or 14/15 (cell) digits", index))
            continue
        if area.level is not None and area.level != level:
            problems.append(Problem(
                code, CODE_LEVEL,
                f"code {code} in {where} is a {level} code but the area is given as a "
                f"{area.level}", index))
            continue
        if code in good:
            first = good[code].feature_index
            earlier = f"feature [{first}]" if first is not None else "an earlier area"
            problems.append(Problem(
                code, CODE_DUPLICATE,
                f"code {code} appears again in {where}; it was first in {earlier}", index))
            continue
        boundary = area.boundary
        if not isinstance(boundary, Polygon | MultiPolygon) or boundary.is_empty:
            problems.append(Problem(code, GEOMETRY_TYPE,
                                    f"{level} {code} has no polygon boundary", index))
            continue
        if not boundary.is_valid:
            problems.append(Problem(
                code, GEOMETRY_INVALID,
                f"{level} {code} has an invalid geometry: {explain_validity(boundary)}", index))
            continue
        good[code] = AreaIn(code, area.name, area.name_en, level,
                            _as_multipolygon(boundary), index)
    return good


def _check_cell_lengths(good: dict[str, AreaIn], existing: Mapping, problems: list[Problem]):
    """A deployment numbers its cells with 14 or 15 digits, never both."""
    file_lengths = Counter(len(c) for c, a in good.items() if a.level == "cell")
    existing_lengths = Counter(len(c) for c, (level, _) in existing.items()
                               if level == "cell" and c not in good)
    if len(set(file_lengths) | set(existing_lengths)) < 2:
        return
    if len(existing_lengths) == 1:
        expected = next(iter(existing_lengths))
        why = f"the database already holds {expected}-digit cells"
    else:
        total = file_lengths + existing_lengths
        expected = max(CELL_CODE_LENGTHS, key=lambda n: (total[n], n))
        why = f"most cells have {expected} digits"
    odd = [a for a in good.values() if a.level == "cell" and len(a.code) != expected]
    if not odd:
        return
    first = odd[0]
    problems.append(Problem(
        first.code, CELL_MIXED_LENGTHS,
        f"{len(odd)} cell code(s) have {len(first.code)} digits, e.g. {_label(first)}, but "
        f"{why}; a deployment uses one cell code length", first.feature_index))


def _derive_ancestors(good: dict[str, AreaIn], existing: Mapping,
                      derived: Collection[str]) -> dict[str, AreaIn]:
    """Return the ancestors of the file's areas to derive, each the union of its children.

    An ancestor is derived when it is in neither the file nor `existing` (missing), or when it
    is in `existing` as derived: then its stored children that the file does not replace count
    too, so it grows with every import that adds children to it.
    """
    to_derive = {ancestor for area in good.values() for ancestor in _ancestor_codes(area.code)
                 if ancestor not in good and (ancestor not in existing or ancestor in derived)}
    if not to_derive:
        return {}
    children: dict[str, dict[str, BaseGeometry]] = defaultdict(dict)
    for code, (level, boundary) in existing.items():
        if code in good or level == "district":
            continue
        parent = code[: _PARENT_LENGTH[level]]
        if parent in to_derive:
            children[parent][code] = boundary
    for area in good.values():
        if area.level != "district":
            children[area.code[: _PARENT_LENGTH[area.level]]][area.code] = area.boundary
    created: dict[str, AreaIn] = {}
    for level in ("community", "street", "district"):  # bottom-up: a new street has new children
        for code in sorted(c for c in to_derive if LEVELS[len(c)] == level):
            boundary = _as_multipolygon(shapely.union_all(list(children[code].values())))
            created[code] = AreaIn(code, code, None, level, boundary, None)
            if level != "district":
                children[code[: _PARENT_LENGTH[level]]][code] = boundary
    return created


def _check_overlaps(good, created, existing, problems, tolerance_m2) -> None:
    """Report pairs of same-level areas whose interiors share more than `tolerance_m2`."""
    new_by_level: dict[str, list[AreaIn]] = defaultdict(list)
    for area in [*good.values(), *created.values()]:
        new_by_level[area.level].append(area)
    old_by_level: dict[str, list[tuple[str, BaseGeometry]]] = defaultdict(list)
    for code, (level, boundary) in existing.items():  # less what the file replaces or re-derives
        if code not in good and code not in created and level in new_by_level:
            old_by_level[level].append((code, boundary))

    for level, new in new_by_level.items():
        old = old_by_level[level]
        n_new = len(new)
        geoms = np.array([a.boundary for a in new] + [b for _, b in old], dtype=object)
        tree = shapely.STRtree(geoms)
        left, right = tree.query(geoms[:n_new], predicate="intersects")
        # each pair once: new-new pairs with left < right, new-old pairs all
        keep = (left < right) | (right >= n_new)
        left, right = left[keep], right[keep]
        if left.size == 0:
            continue
        overlap = _overlay(shapely.intersection, geoms[left], geoms[right])
        # cheap pre-filter in square degrees (1e-13 deg² is under 0.002 m² below 80° latitude)
        rough = shapely.area(overlap) > 1e-13
        left, right, overlap = left[rough], right[rough], overlap[rough]
        overlap_m2 = areas_m2(overlap)
        kind = CELL_OVERLAP if level == "cell" else AREA_OVERLAP
        for i, j, m2 in zip(left.tolist(), right.tolist(), overlap_m2.tolist(), strict=True):
            if m2 <= tolerance_m2:
                continue
            a = new[i]
            other = _label(new[j]) if j < n_new else f"{old[j - n_new][0]} (already imported)"
            problems.append(Problem(a.code, kind,
                                    f"{level} {_label(a)} overlaps {other} by {_fmt_m2(m2)}",
                                    a.feature_index))


def _nearest_ancestor(code, good, existing, derived) -> tuple[str, str, BaseGeometry, bool] | None:
    """Return (code, level, boundary, is_existing) of the nearest ancestor that has a boundary
    of its own: in the file, or stored and not derived from its children."""
    for ancestor in _ancestor_codes(code):
        if ancestor in good:
            return ancestor, good[ancestor].level, good[ancestor].boundary, False
        if ancestor in existing and ancestor not in derived:
            level, boundary = existing[ancestor]
            return ancestor, level, boundary, True
    return None


def _check_inside_ancestors(good, existing, derived, problems, tolerance_m2) -> None:
    """Report areas sticking out of their parent (or nearest known ancestor) by > tolerance."""
    rows = []
    for area in good.values():
        found = _nearest_ancestor(area.code, good, existing, derived)
        if found is not None:
            rows.append((area, *found))
    if not rows:
        return
    children = np.array([r[0].boundary for r in rows], dtype=object)
    parents = np.array([r[3] for r in rows], dtype=object)
    shapely.prepare(parents)
    outside = ~shapely.covers(parents, children)
    idx = np.flatnonzero(outside)
    if idx.size == 0:
        return
    outside_m2 = areas_m2(_overlay(shapely.difference, children[idx], parents[idx]))
    for k, m2 in zip(idx.tolist(), outside_m2.tolist(), strict=True):
        if m2 <= tolerance_m2:
            continue
        area, p_code, p_level, _, p_existing = rows[k]
        direct = len(p_code) == _PARENT_LENGTH[area.level]
        parent_word = f"its {p_level}" if direct else f"its nearest ancestor, {p_level}"
        note = " (already imported)" if p_existing else ""
        kind = CELL_OUTSIDE_PARENT if area.level == "cell" else AREA_OUTSIDE_PARENT
        problems.append(Problem(
            area.code, kind,
            f"{area.level} {_label(area)} lies {_fmt_m2(m2)} outside {parent_word} "
            f"{p_code}{note}", area.feature_index))


def _check_replaced_parents_cover_children(good, existing, problems, tolerance_m2) -> None:
    """Report existing children (not re-imported) that a re-imported parent no longer covers."""
    replaced = {c: a for c, a in good.items() if c in existing and a.level != "cell"}
    if not replaced:
        return
    rows = []
    for code, (level, boundary) in existing.items():
        if code in good or level == "district":
            continue
        parent = code[: _PARENT_LENGTH[level]]
        if parent in replaced:
            rows.append((code, level, boundary, replaced[parent]))
    if not rows:
        return
    children = np.array([r[2] for r in rows], dtype=object)
    parents = np.array([r[3].boundary for r in rows], dtype=object)
    shapely.prepare(parents)
    idx = np.flatnonzero(~shapely.covers(parents, children))
    if idx.size == 0:
        return
    outside_m2 = areas_m2(_overlay(shapely.difference, children[idx], parents[idx]))
    for k, m2 in zip(idx.tolist(), outside_m2.tolist(), strict=True):
        if m2 <= tolerance_m2:
            continue
        code, level, _, parent = rows[k]
        kind = CELL_OUTSIDE_PARENT if level == "cell" else AREA_OUTSIDE_PARENT
        problems.append(Problem(
            parent.code, kind,
            f"{parent.level} {_label(parent)} no longer covers {level} {code} (already "
            f"imported): {_fmt_m2(m2)} of it would lie outside", parent.feature_index))


# --- address points (门牌) ---------------------------------------------------------------------

ADDRESS_COLUMNS = {
    "address": ("地址", "标准地址", "门牌"),
    "address_en": ("英文地址",),
    "lon": ("longitude", "经度", "x"),
    "lat": ("latitude", "纬度", "y"),
}
ADDRESS_REQUIRED = ("address", "lon", "lat")
ADDRESS_SEARCH_LIMIT = 10


def address_key(address: str) -> str:
    """An address as compared: NFKC (全角 digits and letters made plain), lower case, without
    spaces and punctuation: "多福巷 １２号" and "多福巷12号" are one key."""
    text = unicodedata.normalize("NFKC", address).lower()
    return "".join(ch for ch in text if ch.isalnum())


def address_head(key: str) -> str | None:
    """The 门牌 part of an address key, up to its first 号 ("多福巷12号3单元" → "多福巷12号"),
    when something follows it (a building, a unit, a room); else None."""
    at = key.find("号")
    return key[:at + 1] if 0 < at < len(key) - 1 else None


def address_within(key: str) -> list[str]:
    """The pieces of a typed address key that a standard address may be, in full: every piece
    ending with a 号 or at the end ("东城区多福巷12号3单元" holds "多福巷12号", "东城区多福巷12号",
    ...), so that an address point named inside the typed text is found by its unique index."""
    ends = {i + 1 for i, ch in enumerate(key) if ch == "号"} | {len(key)}
    return sorted({key[start:end] for end in ends for start in range(end - 1)})
