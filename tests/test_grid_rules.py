"""Grid import rules: what a grid file must satisfy before `gridsnap import-grid` writes it."""

from __future__ import annotations

import importlib.util
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box, mapping

from gridsnap.grid import rules
from gridsnap.grid.rules import AreaIn, parse_feature_collection, validate_areas

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DEMO_CITY = FIXTURES / "dongcheng.geojson"

# A 100 m grid near the Forbidden City: 0.001172° of longitude and 0.0009° of latitude.
LON0, LAT0, DX, DY = 116.40, 39.91, 0.001172, 0.0009


def cell_box(col: float, row: float, width: float = 1, height: float = 1) -> MultiPolygon:
    """Grid squares, counted from (LON0, LAT0) in 100 m steps."""
    return MultiPolygon([box(LON0 + col * DX, LAT0 + row * DY,
                             LON0 + (col + width) * DX, LAT0 + (row + height) * DY)])


def area(code: str, boundary, name: str = "", index: int | None = None) -> AreaIn:
    return AreaIn(code, name or f"区域{code}", None, rules.level_of(code), boundary, index)


def feature(code, geometry, **props) -> dict:
    return {"type": "Feature", "properties": {"code": code, "name": "测试", **props},
            "geometry": geometry}


def collection(*features) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def kinds(problems) -> list[str]:
    return [p.kind for p in problems]


def square_metres_in(message: str) -> float:
    return float(re.search(r"([0-9.]+) m²", message).group(1))


# A community 110101001001 of 2 x 2 cells, with its street and district.
STREET = cell_box(0, 0, 4, 4)
COMMUNITY = cell_box(0, 0, 2, 2)
CELLS = {
    "110101001001001": cell_box(0, 1),
    "110101001001002": cell_box(1, 1),
    "110101001001003": cell_box(0, 0),
    "110101001001004": cell_box(1, 0),
}


def small_grid() -> list[AreaIn]:
    return [area("110101", STREET), area("110101001", STREET),
            area("110101001001", COMMUNITY), *(area(c, b) for c, b in CELLS.items())]


# --- codes and levels ---------------------------------------------------------------------------


def test_level_follows_code_length():
    assert rules.level_of("110101") == "district"
    assert rules.level_of("110101001") == "street"
    assert rules.level_of("110101001001") == "community"
    assert rules.level_of("11010100100101") == "cell"
    assert rules.level_of("110101001001001") == "cell"


@pytest.mark.parametrize("code", ["1101", "1101010", "1101010010010011", "11010a", "１１０１０１",
                                  "", None, 110101])
def test_level_is_none_for_a_wrong_length_or_anything_but_ascii_digits(code):
    assert rules.level_of(code) is None


def test_parent_code_drops_the_last_level():
    assert rules.parent_code("110101001", 15) == "110101"
    assert rules.parent_code("110101001001", 15) == "110101001"
    assert rules.parent_code("110101001001001", 15) == "110101001001"
    assert rules.parent_code("11010100100101", 14) == "110101001001"


def test_parent_code_is_none_for_a_district_and_for_cells_of_the_other_length():
    assert rules.parent_code("110101", 15) is None
    assert rules.parent_code("11010100100101", 15) is None
    assert rules.parent_code("1101", 15) is None


def test_parent_code_rejects_a_cell_code_length_other_than_14_or_15():
    with pytest.raises(ValueError):
        rules.parent_code("110101001", 13)


# --- reading GeoJSON ----------------------------------------------------------------------------


def test_parse_reads_codes_and_names_and_returns_multipolygons():
    obj = collection(
        feature(110101, mapping(COMMUNITY.geoms[0]), name="东城区", name_en="Dongcheng"),
        feature("110101001001001", mapping(cell_box(0, 0))),
    )
    areas, problems = parse_feature_collection(obj)
    assert problems == []
    district, cell = areas
    assert (district.code, district.name, district.name_en, district.level) == (
        "110101", "东城区", "Dongcheng", "district")
    assert (cell.code, cell.name_en, cell.level, cell.feature_index) == (
        "110101001001001", None, "cell", 1)
    assert all(isinstance(a.boundary, MultiPolygon) for a in areas)


def test_parse_keeps_holes_in_polygons():
    ring = Polygon(cell_box(0, 0, 3, 3).geoms[0].exterior, [cell_box(1, 1).geoms[0].exterior])
    areas, problems = parse_feature_collection(collection(feature("110101001001001",
                                                                  mapping(ring))))
    assert problems == []
    assert len(areas[0].boundary.geoms[0].interiors) == 1


@pytest.mark.parametrize("obj", [None, [], "FeatureCollection", {"type": "Feature"},
                                 {"type": "FeatureCollection"},
                                 {"type": "FeatureCollection", "features": {}}])
def test_parse_reports_anything_but_a_feature_collection_without_raising(obj):
    areas, problems = parse_feature_collection(obj)
    assert areas == []
    assert kinds(problems) == ["collection.invalid"]


def test_parse_reports_each_broken_feature_and_keeps_the_good_ones():
    good = feature("110101001001001", mapping(cell_box(0, 0)))
    obj = collection(
        good,
        "not a feature",
        {"type": "Feature", "properties": {"code": "110101001001002", "name": "x"}},
        feature(None, mapping(cell_box(1, 0))),
        {"type": "Feature", "properties": {"code": "110101001001003"},
         "geometry": mapping(cell_box(2, 0))},
        feature(True, mapping(cell_box(3, 0))),
        feature("110101001001005", mapping(cell_box(4, 0)), name_en=5),
        {"type": "Feature", "properties": None, "geometry": mapping(cell_box(5, 0))},
    )
    areas, problems = parse_feature_collection(obj)
    assert [a.code for a in areas] == ["110101001001001"]
    assert [(p.feature_index, p.kind) for p in problems] == [
        (1, "feature.invalid"),
        (2, "feature.missing_field"),   # no geometry
        (3, "feature.missing_field"),   # no code
        (4, "feature.missing_field"),   # no name
        (5, "feature.field_type"),      # a boolean is not a code
        (6, "feature.field_type"),      # name_en must be text
        (7, "feature.missing_field"),   # no code
        (7, "feature.missing_field"),   # no name
    ]
    assert "has no geometry" in problems[1].message
    assert problems[1].code == "110101001001002"


@pytest.mark.parametrize("geometry", [
    {"type": "Point", "coordinates": [116.4, 39.9]},
    {"type": "LineString", "coordinates": [[116.4, 39.9], [116.41, 39.91]]},
    {"type": "GeometryCollection", "geometries": []},
])
def test_parse_reports_geometry_that_is_not_a_polygon(geometry):
    _, problems = parse_feature_collection(collection(feature("110101001001001", geometry)))
    assert kinds(problems) == ["geometry.type"]
    assert "Polygon or MultiPolygon" in problems[0].message


def test_parse_reports_invalid_geometry_with_the_reason_shapely_gives():
    bow_tie = {"type": "Polygon", "coordinates": [[[116.40, 39.90], [116.41, 39.91],
                                                   [116.41, 39.90], [116.40, 39.91],
                                                   [116.40, 39.90]]]}
    _, problems = parse_feature_collection(collection(feature("110101001001001", bow_tie)))
    assert kinds(problems) == ["geometry.invalid"]
    assert "110101001001001" in problems[0].message
    assert "Self-intersection" in problems[0].message


@pytest.mark.parametrize("coordinates", ["abc", [], [[[116.4, 39.9], [116.41, 39.9]]],
                                         [[["a", "b"], [1, 2], [3, 4], ["a", "b"]]]])
def test_parse_reports_unreadable_or_empty_coordinates(coordinates):
    geometry = {"type": "Polygon", "coordinates": coordinates}
    _, problems = parse_feature_collection(collection(feature("110101001001001", geometry)))
    assert kinds(problems)[0] in ("geometry.malformed", "geometry.empty")


def test_parse_reports_projected_or_swapped_coordinates_as_out_of_range():
    metres = box(12958000, 4851000, 12958100, 4851100)  # Web Mercator
    swapped = box(39.90, 116.40, 39.91, 116.41)  # (lat, lon)
    _, problems = parse_feature_collection(collection(
        feature("110101001001001", mapping(metres)), feature("110101001001002", mapping(swapped))))
    assert kinds(problems) == ["geometry.out_of_range"] * 2
    assert "EPSG:4326" in problems[0].message


def test_parse_reports_a_declared_coordinate_system_other_than_lon_lat():
    obj = collection(feature("110101001001001", mapping(cell_box(0, 0))))
    obj["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}
    assert kinds(parse_feature_collection(obj)[1]) == ["collection.crs"]
    obj["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    assert parse_feature_collection(obj)[1] == []


# --- measuring --------------------------------------------------------------------------------


def test_area_of_a_100_m_cell_is_about_ten_thousand_square_metres():
    assert rules.area_m2(cell_box(0, 0)) == pytest.approx(10_000, rel=0.005)


def test_area_matches_the_wgs84_ellipsoid_to_a_hundredth_of_a_percent():
    # Reference: integrate M(φ)·N(φ)·cos φ dφ dλ on WGS84 numerically, for a box 1 km x 1 km.
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    lon0, lat0, dlon, dlat = 116.40, 39.90, 0.01172, 0.009
    steps = 1000
    total = 0.0
    for k in range(steps):
        phi = math.radians(lat0 + (k + 0.5) * dlat / steps)
        w = 1 - e2 * math.sin(phi) ** 2
        total += a * a * (1 - e2) / w**2 * math.cos(phi) * math.radians(dlat / steps)
    expected = total * math.radians(dlon)
    measured = rules.area_m2(box(lon0, lat0, lon0 + dlon, lat0 + dlat))
    assert measured == pytest.approx(expected, rel=1e-4)


# --- validating ---------------------------------------------------------------------------------


def test_a_consistent_grid_has_no_problems():
    out, problems = validate_areas(small_grid())
    assert problems == []
    assert len(out) == 7


def test_cells_that_only_touch_at_edges_or_corners_do_not_overlap():
    diagonal = area("110101001001005", cell_box(1, 1))
    _, problems = validate_areas([area("110101001001001", cell_box(0, 0)),
                                  area("110101001001002", cell_box(1, 0)), diagonal])
    assert problems == []


def test_overlapping_cells_are_reported_with_the_overlap_in_square_metres():
    half_over = cell_box(0.5, 0)
    _, problems = validate_areas([area("110101001001003", cell_box(0, 0), index=0),
                                  area("110101001001004", half_over, index=1)])
    assert kinds(problems) == ["cell.overlap"]
    (problem,) = problems
    assert problem.code == "110101001001003" and problem.feature_index == 0
    assert problem.message.startswith("cell 110101001001003 (feature [0]) overlaps "
                                      "110101001001004 (feature [1]) by ")
    assert square_metres_in(problem.message) == pytest.approx(5_000, rel=0.01)


def test_overlaps_under_a_hundredth_of_a_square_metre_are_float_noise():
    # 1e-9° of longitude is 0.09 mm: a 100 m-long sliver of 0.009 m²
    noise = area("110101001001002", cell_box(1 - 1e-9 / DX, 0))
    _, problems = validate_areas([area("110101001001001", cell_box(0, 0)), noise])
    assert problems == []
    # 1e-7° is 8.5 mm: 0.85 m², a real overlap
    sliver = area("110101001001002", cell_box(1 - 1e-7 / DX, 0))
    _, problems = validate_areas([area("110101001001001", cell_box(0, 0)), sliver])
    assert kinds(problems) == ["cell.overlap"]
    assert square_metres_in(problems[0].message) == pytest.approx(0.85, abs=0.01)


def test_a_cell_inside_another_cells_courtyard_is_no_overlap_but_one_on_its_ring_is():
    ring = Polygon(cell_box(0, 0, 3, 3).geoms[0].exterior, [cell_box(1, 1).geoms[0].exterior])
    courtyard = area("110101001001002", cell_box(1, 1))
    on_ring = area("110101001001003", cell_box(0, 0))
    _, problems = validate_areas([area("110101001001001", MultiPolygon([ring])), courtyard,
                                  on_ring])
    assert [(p.kind, p.code) for p in problems] == [("cell.overlap", "110101001001001")]
    assert "110101001001003" in problems[0].message


def test_overlapping_communities_are_reported_too():
    _, problems = validate_areas([area("110101001001", cell_box(0, 0, 2, 2)),
                                  area("110101001002", cell_box(1, 0, 2, 2))])
    assert kinds(problems) == ["area.overlap"]
    assert problems[0].message.startswith("community 110101001001 ")
    assert square_metres_in(problems[0].message) == pytest.approx(20_000, rel=0.01)


def test_overlap_with_an_existing_cell_is_reported_unless_the_file_replaces_that_cell():
    existing = {"110101001001002": ("cell", cell_box(0, 0))}
    new = [area("110101001001001", cell_box(0.5, 0))]
    _, problems = validate_areas(new, existing)
    assert kinds(problems) == ["cell.overlap"]
    assert "110101001001002 (already imported)" in problems[0].message

    replacing = [*new, area("110101001001002", cell_box(1.5, 0))]
    _, problems = validate_areas(replacing, existing)
    assert problems == []


@pytest.mark.parametrize(("code", "kind"), [("1101010010", "code.length"),
                                            ("11010100100100011", "code.length"),
                                            ("11010A001", "code.format"),
                                            ("１１０１０１", "code.format")])
def test_codes_of_a_wrong_length_or_with_non_digits_are_reported(code, kind):
    _, problems = validate_areas([AreaIn(code, "x", None, None, cell_box(0, 0), 3)])
    assert kinds(problems) == [kind]
    assert problems[0].feature_index == 3
    assert code in problems[0].message


def test_a_code_given_twice_in_the_file_is_reported_at_each_repeat():
    areas = [area("110101001001001", cell_box(0, 0), index=0),
             area("110101001001001", cell_box(1, 0), index=4),
             area("110101001001001", cell_box(2, 0), index=9)]
    out, problems = validate_areas(areas)
    assert [(p.kind, p.feature_index) for p in problems] == [("code.duplicate", 4),
                                                            ("code.duplicate", 9)]
    assert problems[0].message == ("code 110101001001001 appears again in feature [4]; "
                                   "it was first in feature [0]")


def test_cells_of_14_and_15_digits_cannot_be_mixed_in_one_file():
    areas = [area("110101001001001", cell_box(0, 0)), area("110101001001002", cell_box(1, 0)),
             area("11010100100103", cell_box(2, 0), index=7)]
    _, problems = validate_areas(areas)
    assert kinds(problems) == ["cell.mixed_lengths"]
    assert problems[0].code == "11010100100103" and problems[0].feature_index == 7


def test_cells_in_the_file_must_have_the_length_of_the_cells_already_imported():
    existing = {"11010100100101": ("cell", cell_box(5, 5))}
    _, problems = validate_areas([area("110101001001001", cell_box(0, 0))], existing)
    assert kinds(problems) == ["cell.mixed_lengths"]
    assert "the database already holds 14-digit cells" in problems[0].message


def test_a_cell_outside_its_community_is_reported_with_the_area_outside():
    grid = small_grid()
    grid[-1] = area("110101001001004", cell_box(1.25, 0), index=6)  # a quarter sticks out
    _, problems = validate_areas(grid)
    assert kinds(problems) == ["cell.outside_parent"]
    assert problems[0].message.startswith(
        "cell 110101001001004 (feature [6]) lies ")
    assert problems[0].message.endswith(" outside its community 110101001001")
    assert square_metres_in(problems[0].message) == pytest.approx(2_500, rel=0.01)


def test_a_community_outside_its_street_is_reported():
    grid = small_grid()
    grid[1] = area("110101001", cell_box(1, 0, 3, 4))
    _, problems = validate_areas(grid)
    assert kinds(problems) == ["area.outside_parent"]
    assert problems[0].message.startswith("community 110101001001 ")
    assert square_metres_in(problems[0].message) == pytest.approx(20_000, rel=0.01)


def test_a_cell_sticking_out_by_less_than_a_square_metre_is_accepted():
    grid = small_grid()
    grid[-1] = area("110101001001004", cell_box(1 + 1e-7 / DX, 0))  # 0.85 m² outside
    assert validate_areas(grid)[1] == []


def test_a_cell_is_checked_against_its_community_in_the_database():
    existing = {"110101001001": ("community", COMMUNITY)}
    inside = area("110101001001001", cell_box(0, 0))
    outside = area("110101001001002", cell_box(2, 0))
    _, problems = validate_areas([inside, outside], existing)
    assert [(p.kind, p.code) for p in problems] == [("cell.outside_parent", "110101001001002")]
    assert problems[0].message.endswith("its community 110101001001 (already imported)")


def test_a_cell_is_checked_against_its_street_when_its_community_is_derived():
    _, problems = validate_areas([area("110101001", cell_box(0, 0, 2, 2)),
                                  area("110101001001001", cell_box(0, 0)),
                                  area("110101001001002", cell_box(2, 0))])
    assert kinds(problems) == ["cell.outside_parent"]
    assert problems[0].message.endswith("outside its nearest ancestor, street 110101001")


def test_a_reimported_community_must_still_cover_the_cells_already_imported():
    existing = {"110101001001": ("community", COMMUNITY),
                **{c: ("cell", b) for c, b in CELLS.items()}}
    shrunk = area("110101001001", cell_box(0, 0, 2, 1), index=0)  # loses the northern row
    _, problems = validate_areas([shrunk], existing)
    assert [(p.kind, p.code) for p in problems] == [("cell.outside_parent", "110101001001")] * 2
    assert problems[0].message.startswith(
        "community 110101001001 (feature [0]) no longer covers cell 110101001001001 "
        "(already imported): ")
    # re-importing the northern cells inside the new boundary settles it
    moved = [area("110101001001001", cell_box(0, 0, 0.5, 1)),
             area("110101001001002", cell_box(0.5, 0, 0.5, 1)),
             area("110101001001003", cell_box(1, 0, 0.5, 1)),
             area("110101001001004", cell_box(1.5, 0, 0.5, 1))]
    assert validate_areas([shrunk, *moved], existing)[1] == []


def test_missing_ancestors_are_derived_from_their_children_and_named_by_their_code():
    cells = [area(c, b) for c, b in CELLS.items()]
    other_community = area("110101001002001", cell_box(3, 0))
    out, problems = validate_areas([*cells, other_community])
    assert problems == []
    derived = {a.code: a for a in out if len(a.code) < 15}
    assert sorted(derived) == ["110101", "110101001", "110101001001", "110101001002"]
    community = derived["110101001001"]
    assert (community.name, community.name_en, community.level) == (
        "110101001001", None, "community")
    assert community.boundary.equals(COMMUNITY)
    assert isinstance(community.boundary, MultiPolygon)
    # a street of two communities that do not touch is a MultiPolygon of both
    assert derived["110101001"].boundary.equals(
        shapely.union_all([COMMUNITY, cell_box(3, 0)]))


def test_ancestors_in_the_database_are_not_derived_again():
    existing = {"110101": ("district", STREET), "110101001": ("street", STREET)}
    out, problems = validate_areas([area(c, b) for c, b in CELLS.items()], existing)
    assert problems == []
    assert [a.code for a in out if a.code not in CELLS] == ["110101001001"]


def test_ancestors_derived_before_are_recomputed_with_the_stored_and_the_new_children():
    first_street = cell_box(0, 0, 2, 2)
    existing = {"110101": ("district", first_street), "110101001": ("street", first_street),
                "110101001001": ("community", COMMUNITY),
                **{c: ("cell", b) for c, b in CELLS.items()}}
    second_street = [area("110101002001001", cell_box(3, 0)), area("110101002001002",
                                                                   cell_box(4, 0))]
    out, problems = validate_areas(second_street, existing, derived={"110101", "110101001"})
    assert problems == []
    derived = {a.code: a for a in out if a.feature_index is None and len(a.code) < 15}
    assert sorted(derived) == ["110101", "110101002", "110101002001"]
    assert derived["110101"].boundary.equals(
        shapely.union_all([first_street, cell_box(3, 0, 2, 1)]))
    assert derived["110101"].name == "110101"


def test_a_cell_is_checked_against_its_nearest_ancestor_not_derived_from_children():
    existing = {"110101": ("district", cell_box(0, 0, 10, 10)),
                "110101001": ("street", COMMUNITY)}
    inside_district = [area("110101001002001", cell_box(5, 5))]
    _, problems = validate_areas(inside_district, existing, derived={"110101001"})
    assert problems == []
    _, problems = validate_areas([area("110101001002001", cell_box(12, 12))], existing,
                                 derived={"110101001"})
    assert kinds(problems) == ["cell.outside_parent"]
    assert problems[0].message.endswith("its nearest ancestor, district 110101 (already imported)")
    # without the mark, the street's stored boundary is the limit
    _, problems = validate_areas(inside_district, existing)
    assert kinds(problems) == ["cell.outside_parent"]


def test_an_ancestor_not_derived_is_never_recomputed():
    existing = {"110101": ("district", STREET), "110101001": ("street", STREET)}
    out, _ = validate_areas([area(c, b) for c, b in CELLS.items()], existing,
                            derived={"110101001"})
    assert sorted(a.code for a in out if a.code not in CELLS) == ["110101001", "110101001001"]


def test_a_derived_community_overlapping_an_existing_one_is_reported():
    existing = {"110101001002": ("community", cell_box(0, 0, 2, 2))}
    _, problems = validate_areas([area("110101001001001", cell_box(1, 1))], existing)
    assert kinds(problems) == ["area.overlap"]
    assert "110101001001 (derived from its children) overlaps 110101001002" in (
        problems[0].message)


def test_the_result_lists_parents_before_children():
    out, _ = validate_areas(list(reversed(small_grid())))
    assert [a.level for a in out] == ["district", "street", "community", *["cell"] * 4]


def test_an_invalid_boundary_given_directly_is_reported_not_raised():
    bow_tie = MultiPolygon([Polygon([(116.40, 39.90), (116.41, 39.91), (116.41, 39.90),
                                     (116.40, 39.91)])])
    _, problems = validate_areas([area("110101001001001", bow_tie), *small_grid()[1:3]])
    assert kinds(problems) == ["geometry.invalid"]


def test_a_pair_geos_cannot_node_is_redone_with_snap_rounding():
    calls = []

    def picky_intersection(a, b, grid_size=None):
        calls.append(grid_size)
        if grid_size is None:
            raise shapely.errors.GEOSException("TopologyException: found non-noded intersection")
        return shapely.intersection(a, b, grid_size=grid_size)

    a = np.array([cell_box(0, 0)], dtype=object)
    b = np.array([cell_box(0.5, 0)], dtype=object)
    (overlap,) = rules._overlay(picky_intersection, a, b)
    assert calls == [None, None, 1e-9]
    assert rules.area_m2(overlap) == pytest.approx(5_000, rel=0.01)


def test_ten_thousand_touching_cells_validate_and_derive_their_ancestors():
    # two streets of 50 communities of 10 × 10 cells, every neighbour sharing an edge; how the
    # time grows up to 100,000 cells is measured by `python -m bench.grid_import`
    areas = []
    for s in range(2):
        for k in range(50):
            code = f"110101{s + 1:03d}{k + 1:03d}"
            col, row = s * 100 + (k % 10) * 10, (k // 10) * 10
            areas += [area(f"{code}{n + 1:03d}", cell_box(col + n % 10, row + n // 10))
                      for n in range(100)]
    out, problems = validate_areas(areas)
    assert problems == []
    assert len(out) == 10_000 + 100 + 2 + 1


# --- the demo city fixture ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_city():
    areas, problems = parse_feature_collection(json.loads(DEMO_CITY.read_text("utf-8")))
    assert problems == []
    return areas


def test_demo_city_validates_without_problems(demo_city):
    out, problems = validate_areas(demo_city)
    assert problems == []
    assert len(out) == len(demo_city)  # nothing had to be derived


def test_demo_city_has_streets_communities_and_hundreds_of_cells(demo_city):
    by_level = {level: [a for a in demo_city if a.level == level] for level in rules.LEVEL_RANK}
    assert [a.code for a in by_level["district"]] == ["110101"]
    assert len(by_level["street"]) >= 2
    assert len(by_level["community"]) >= 4
    assert 400 <= len(by_level["cell"]) <= 700
    assert all(len(a.code) == 15 for a in by_level["cell"])
    assert all(a.name and a.name_en for a in demo_city)


def test_demo_city_has_a_multipolygon_cell_and_a_cell_with_a_courtyard(demo_city):
    by_code = {a.code: a.boundary for a in demo_city}
    multi = by_code["110101001001024"]
    assert len(multi.geoms) == 2 and multi.geoms[0].disjoint(multi.geoms[1])
    (ring,) = by_code["110101002001020"].geoms
    assert len(ring.interiors) == 1
    assert Polygon(ring.interiors[0]).equals(by_code["110101002001021"])


def test_demo_city_cells_tile_their_communities_and_communities_their_streets(demo_city):
    by_code = {a.code: a for a in demo_city}
    children: dict[str, list] = {}
    for a in demo_city:
        if a.level != "district":
            children.setdefault(rules.parent_code(a.code, 15), []).append(a.boundary)
    for code, parts in children.items():
        union = shapely.union_all(parts)
        assert shapely.symmetric_difference(union, by_code[code].boundary).area < 1e-12, code
        assert sum(p.area for p in parts) == pytest.approx(by_code[code].boundary.area)


def test_demo_city_file_is_what_the_generator_writes():
    spec = importlib.util.spec_from_file_location("make_demo_city",
                                                  FIXTURES / "make_demo_city.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert generator.render() == DEMO_CITY.read_text("utf-8"), (
        "fixtures/dongcheng.geojson is stale: run fixtures/make_demo_city.py")
