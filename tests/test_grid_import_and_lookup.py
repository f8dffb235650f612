"""Importing a grid into PostGIS, and finding the cell of a point (invariant 3)."""

from __future__ import annotations

import copy

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from gridsnap.cli import main as cli
from gridsnap.grid.service import import_grid

from conftest import auth, new_id, report_body
from geo_samples import box, point, poly, sample_grid, write


@pytest.fixture()
def imported(runtime, tmp_path):
    with runtime.sessions.begin() as s:
        result = import_grid(s, write(tmp_path / "grid.geojson", sample_grid()))
    assert result.ok, [p.message for p in result.problems]
    return result


def _count(engine, where="code LIKE '990101%'"):
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM areas WHERE {where}")).scalar()


def test_import_creates_missing_ancestors_from_their_children(imported, engine):
    assert imported.created_ancestors == 2  # street 990101001 and district 990101
    with engine.connect() as conn:
        rows = dict(conn.execute(text(
            "SELECT code, round(ST_Area(boundary::geography)) FROM areas "
            "WHERE code IN ('990101', '990101001', '990101001001', '990101001002')")).all())
        parent = conn.execute(text(
            "SELECT parent_code FROM areas WHERE code = '990101001001005'")).scalar()
    assert rows["990101"] == rows["990101001"] == rows["990101001001"] + rows["990101001002"]
    assert parent == "990101001001"


def test_dry_run_reports_and_writes_nothing(runtime, tmp_path, engine):
    with runtime.sessions.begin() as s:
        result = import_grid(s, write(tmp_path / "g.geojson", sample_grid()), dry_run=True)
    assert result.ok and result.levels["cell"] == 9
    assert _count(engine) == 0


def test_overlapping_cells_reject_the_whole_file(runtime, tmp_path, engine):
    grid = sample_grid()
    grid["features"].append({"type": "Feature",
                             "properties": {"code": "990101001001009", "name": "重叠"},
                             "geometry": poly(box(0.5, 0.5, 1.5, 1.5))})
    with runtime.sessions.begin() as s:
        result = import_grid(s, write(tmp_path / "bad.geojson", grid))
    assert not result.ok
    overlaps = [p for p in result.problems if p.kind == "cell.overlap"]
    assert overlaps and all("990101001001009" in p.message for p in overlaps)
    assert all("m²" in p.message for p in overlaps)
    assert _count(engine) == 0


def test_every_problem_is_reported_by_feature_code(runtime, tmp_path, engine):
    grid = sample_grid()
    bowtie = {"type": "Polygon", "coordinates": [[[100, 30], [100.001, 30.001], [100.001, 30],
                                                  [100, 30.001], [100, 30]]]}
    grid["features"] += [
        {"type": "Feature", "properties": {"code": "9901010010010", "name": "坏编码"},
         "geometry": poly(box(5, 5, 6, 6))},
        {"type": "Feature", "properties": {"code": "990101001001010", "name": "自相交"},
         "geometry": bowtie},
        {"type": "Feature", "properties": {"code": "990101001001011", "name": "社区外"},
         "geometry": poly(box(10, 10, 11, 11))},
    ]
    with runtime.sessions.begin() as s:
        result = import_grid(s, write(tmp_path / "bad.geojson", grid))
    by_code = {p.code: p.kind for p in result.problems}
    assert by_code.get("9901010010010", "").startswith("code.")
    assert by_code.get("990101001001010") == "geometry.invalid"
    assert by_code.get("990101001001011") == "cell.outside_parent"
    assert _count(engine) == 0


def test_reimport_updates_by_code(imported, runtime, tmp_path, engine):
    grid = copy.deepcopy(sample_grid())
    grid["features"][2]["properties"]["name"] = "一号网格（改名）"
    with runtime.sessions.begin() as s:
        assert import_grid(s, write(tmp_path / "again.geojson", grid)).ok
    with engine.connect() as conn:
        assert conn.execute(text(
            "SELECT name FROM areas WHERE code = '990101001001001'")).scalar() == "一号网格（改名）"
    assert _count(engine) == 13


def test_cli_import_grid_dry_run_and_errors(settings, tmp_path, engine, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    runner = CliRunner()
    path = write(tmp_path / "g.geojson", sample_grid())
    r = runner.invoke(cli, ["import-grid", str(path), "--dry-run"])
    assert r.exit_code == 0, r.output
    assert "valid" in r.output and _count(engine) == 0
    r = runner.invoke(cli, ["import-grid", str(path)])
    assert r.exit_code == 0 and "imported 13 areas" in r.output
    bad = write(tmp_path / "bad.geojson", {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "12"}, "geometry": None}]})
    r = runner.invoke(cli, ["import-grid", str(bad)])
    assert r.exit_code == 1 and "nothing was imported" in r.output


LOOKUPS = [
    ("interior point", point(1.5, 1.5), "990101001001004"),
    ("edge shared by two cells goes to the lower code", point(1, 0.5), "990101001001001"),
    ("vertex shared by four cells goes to the lowest", point(1, 1), "990101001001001"),
    ("point in a hole belongs to the cell filling it", point(2.5, 0.5), "990101001001006"),
    ("point on a hole's rim goes to the lower code", point(2.4, 0.5), "990101001001005"),
    ("second part of a MultiPolygon cell", point(2.75, 1.75), "990101001001007"),
    ("other chessboard part", point(2.25, 1.75), "990101001001008"),
]


@pytest.mark.parametrize(("why", "pt", "cell"), LOOKUPS, ids=[w for w, _, _ in LOOKUPS])
def test_cell_lookup(imported, client, tokens, why, pt, cell):
    r = client.get("/api/v1/cells/locate", query_string=pt, headers=auth(tokens["admin"]))
    assert r.status_code == 200
    assert r.get_json()["cell"]["code"] == cell
    rep = client.put(f"/api/v1/reports/{new_id()}", json=report_body(pt),
                     headers=auth(tokens["worker"]))
    assert rep.status_code == 201
    assert rep.get_json()["cell"]["code"] == cell
    assert rep.get_json()["outside_grid"] is False


def test_point_in_a_community_but_no_cell_is_attached_to_the_community(imported, client, tokens):
    rep = client.put(f"/api/v1/reports/{new_id()}", json=report_body(point(3.5, 1.5)),
                     headers=auth(tokens["worker"]))
    j = rep.get_json()
    assert rep.status_code == 201 and j["outside_grid"] is True
    assert j["cell"] is None
    assert j["area_code"] == "990101001002"
    assert j["community"]["name"] == "测试二社区"
    assert j["street"]["code"] == "990101001" and j["district"]["code"] == "990101"


def test_point_outside_every_area(imported, client, tokens):
    r = client.get("/api/v1/cells/locate", query_string=point(50, 50),
                   headers=auth(tokens["admin"]))
    j = r.get_json()
    assert j["outside_grid"] is True and j["area_code"] is None and j["cell"] is None


def test_cells_in_a_box_as_geojson(imported, client, tokens):
    lo, hi = point(0, 0), point(2, 2)
    r = client.get("/api/v1/cells", query_string={
        "bbox": f"{lo['lon'] + 1e-5},{lo['lat'] + 1e-5},{hi['lon'] - 1e-5},{hi['lat'] - 1e-5}"},
        headers=auth(tokens["worker"]))
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    codes = [f["properties"]["code"] for f in r.get_json()["features"]]
    assert codes == [f"99010100100100{i}" for i in range(1, 5)]
    assert r.get_json()["features"][0]["geometry"]["type"] == "MultiPolygon"


def test_lookup_uses_the_spatial_index(imported, engine):
    with engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(r[0] for r in conn.execute(text(
            "EXPLAIN SELECT code FROM areas WHERE level = 'cell' AND "
            "ST_Covers(boundary, ST_SetSRID(ST_MakePoint(100.0015, 30.0015), 4326))")))
    assert "ix_areas_cell_boundary" in plan


def _areas(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT code, level, parent_code, name, ST_AsText(boundary) FROM areas "
            "ORDER BY code")).all()


def test_a_file_with_one_bad_and_one_good_cell_leaves_the_database_unchanged(
        runtime, tmp_path, engine):
    before = _areas(engine)
    bowtie = {"type": "Polygon", "coordinates": [[[100, 30], [100.001, 30.001],
                                                  [100.001, 30], [100, 30.001], [100, 30]]]}
    grid = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "990101001001001", "name": "自相交"},
         "geometry": bowtie},
        {"type": "Feature", "properties": {"code": "990101001001002", "name": "好的"},
         "geometry": poly(box(1, 0, 2, 1))}]}
    with runtime.sessions.begin() as s:
        result = import_grid(s, write(tmp_path / "half.geojson", grid))
    assert not result.ok and result.written == 0
    assert _areas(engine) == before
    # and the correct file imports afterwards
    with runtime.sessions.begin() as s:
        result = import_grid(s, write(tmp_path / "grid.geojson", sample_grid()))
    assert result.ok, [p.message for p in result.problems]


# --- a city imported street by street -----------------------------------------------------------


def _cells(street: str, x0: float) -> dict:
    """Two communities of one cell each in `street`, side by side from x0 (in 0.001°)."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": f"{street}001001", "name": f"{street}甲"},
         "geometry": poly(box(x0, 0, x0 + 1, 1))},
        {"type": "Feature", "properties": {"code": f"{street}002001", "name": f"{street}乙"},
         "geometry": poly(box(x0 + 1, 0, x0 + 2, 1))}]}


def _district(engine, code="990101"):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT derived, name, round(ST_Area(boundary::geography)) AS m2, "
            "ST_Covers(boundary, ST_SetSRID(ST_MakePoint(:x1, :y), 4326)) AS covers_first, "
            "ST_Covers(boundary, ST_SetSRID(ST_MakePoint(:x2, :y), 4326)) AS covers_second "
            "FROM areas WHERE code = :code"),
            {"code": code, "y": 30.0005, "x1": 100.0005, "x2": 100.0105}).mappings().one()


def test_a_district_imported_street_by_street_grows_with_each_street(runtime, tmp_path, engine):
    with runtime.sessions.begin() as s:
        first = import_grid(s, write(tmp_path / "street1.geojson", _cells("990101001", 0)))
    assert first.ok and first.created_ancestors == 4  # 2 communities, the street, the district
    one_street = _district(engine)
    assert one_street["derived"] and one_street["covers_first"]
    assert not one_street["covers_second"]

    with runtime.sessions.begin() as s:
        second = import_grid(s, write(tmp_path / "street2.geojson", _cells("990101002", 10)))
    assert second.ok, [p.message for p in second.problems]
    assert (second.created_ancestors, second.recomputed_ancestors) == (3, 1)
    district = _district(engine)
    assert district["derived"] and district["name"] == "990101"
    assert district["covers_first"] and district["covers_second"]
    assert district["m2"] == pytest.approx(2 * one_street["m2"], rel=1e-4)
    with engine.connect() as conn:
        streets = conn.execute(text(
            "SELECT code FROM areas WHERE level = 'street' AND derived "
            "AND parent_code = '990101' ORDER BY code")).scalars().all()
    assert streets == ["990101001", "990101002"]

    # a third file with a cell over an existing one is refused and changes nothing
    before = _areas(engine)
    overlapping = _cells("990101003", 20)
    overlapping["features"][1]["geometry"] = poly(box(10.5, 0, 11.5, 1))
    with runtime.sessions.begin() as s:
        third = import_grid(s, write(tmp_path / "street3.geojson", overlapping))
    assert not third.ok and third.problems[0].kind == "cell.overlap"
    assert third.problems[0].message.startswith(
        "cell 990101003002001 (feature [1]) overlaps 990101002001001 (already imported)")
    assert _areas(engine) == before


def test_an_area_imported_from_a_file_is_never_overwritten_by_derivation(
        runtime, tmp_path, engine):
    district = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "990101", "name": "测试区"},
         "geometry": poly(box(0, 0, 12, 2))}]}
    with runtime.sessions.begin() as s:
        assert import_grid(s, write(tmp_path / "district.geojson", district)).ok
        assert import_grid(s, write(tmp_path / "street1.geojson", _cells("990101001", 0))).ok
        result = import_grid(s, write(tmp_path / "street2.geojson", _cells("990101002", 10)))
    assert result.ok and result.recomputed_ancestors == 0
    row = _district(engine)
    assert not row["derived"] and row["name"] == "测试区"
    # a street reaching beyond the district given by a file is still refused
    with runtime.sessions.begin() as s:
        beyond = import_grid(s, write(tmp_path / "street3.geojson", _cells("990101003", 20)))
    assert [p.kind for p in beyond.problems] == ["cell.outside_parent"] * 2
    assert "its nearest ancestor, district 990101 (already imported)" in (
        beyond.problems[0].message)


def test_a_district_built_from_children_becomes_the_files_when_a_file_gives_it(
        runtime, tmp_path, engine):
    with runtime.sessions.begin() as s:
        assert import_grid(s, write(tmp_path / "street1.geojson", _cells("990101001", 0))).ok
        given = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"code": "990101", "name": "测试区"},
             "geometry": poly(box(0, 0, 12, 2))}]}
        assert import_grid(s, write(tmp_path / "district.geojson", given)).ok
    row = _district(engine)
    assert not row["derived"] and row["name"] == "测试区" and row["covers_second"]


def test_a_cell_overlapping_a_neighbouring_districts_cell_is_refused(runtime, tmp_path, engine):
    with runtime.sessions.begin() as s:
        assert import_grid(s, write(tmp_path / "street1.geojson", _cells("990101001", 0))).ok
    before = _areas(engine)
    neighbour = _cells("990102001", 1.5)  # its first cell covers half of 990101001002001
    with runtime.sessions.begin() as s:
        result = import_grid(s, write(tmp_path / "neighbour.geojson", neighbour))
    overlaps = {(p.kind, p.code): p.message for p in result.problems}
    assert overlaps[("cell.overlap", "990102001001001")].startswith(
        "cell 990102001001001 (feature [0]) overlaps 990101001002001 (already imported) by ")
    assert ("area.overlap", "990102") in overlaps  # and the districts made of them
    assert _areas(engine) == before
    # beside it, not over it, the neighbour imports
    with runtime.sessions.begin() as s:
        assert import_grid(s, write(tmp_path / "beside.geojson", _cells("990102001", 2))).ok
