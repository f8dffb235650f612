"""The 12345 catalogue (诉求分类), the dispatch catalogue (派单目录) and address points (门牌):
imported from CSV or XLSX with every problem reported by line, field and code and nothing
half-imported; searched by the call-taker in Chinese, pinyin or English; a hotline case
dispatched by the catalogue for its area, placed by an address point."""

from __future__ import annotations

import io
from datetime import UTC, timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import text

from cases_helpers import act
from gridsnap import clock
from hotline_helpers import call_body, take_call

from conftest import auth
from followup import drain

DONGSI_CELL = "110101006002"  # 东四六条社区 (a community of 东四街道)
DHM_COMMUNITY = "110101001001"  # 多福巷社区 (东华门街道)


def _upload(client, token, path, content: bytes, name="file.csv", **query):
    return client.post(f"/api/v1/catalogue/{path}", query_string=query,
                       data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data", headers=auth(token))


def _csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def _count(engine, sql: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


@pytest.fixture()
def test_classes(engine):
    """Classes 99… a test imports are removed afterwards (the demo catalogue stays)."""
    yield
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM dispatch_entries WHERE class_code LIKE '99%' "
                          "OR note = 'test'"))
        conn.execute(text("DELETE FROM request_classes WHERE code LIKE '99%' "
                          "AND level = 3"))
        conn.execute(text("DELETE FROM request_classes WHERE code LIKE '99%' "
                          "AND level = 2"))
        conn.execute(text("DELETE FROM request_classes WHERE code LIKE '99%'"))
        conn.execute(text("DELETE FROM address_points WHERE address LIKE '测试%'"))


def _cell_point(engine, prefix: str) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(text("""
            SELECT code, ST_X(ST_PointOnSurface(boundary)) AS lon,
                   ST_Y(ST_PointOnSurface(boundary)) AS lat
              FROM areas WHERE level = 'cell' AND code LIKE :p || '%'
               AND ST_NumGeometries(boundary) = 1 ORDER BY code LIMIT 1
        """), {"p": prefix}).mappings().one())


def _now_body(cell=None, **kw):
    called = (clock.now() - timedelta(minutes=5)).astimezone(UTC).replace(microsecond=0)
    return call_body(cell, called_at=called.isoformat(), **kw)


# --- import ---------------------------------------------------------------------------------

def test_a_catalogue_with_bad_rows_imports_nothing_and_names_line_field_and_code(
        client, tokens, engine, test_classes):
    before = _count(engine, "SELECT count(*) FROM request_classes")
    r = _upload(client, tokens["admin"], "request-classes", _csv(
        "code,name,name_en,category,department,keywords",
        "99,测试大类,Test,,,",                       # 2: fine
        "9901,测试中类,Test group,E0101,sanitation,",  # 3: fine
        "990101,好的小类,Good,,,",                     # 4: fine (inherits E0101)
        "9X-1,坏编码,Bad code,E0101,,",                # 5: bad code
        "990102,未知分类,Unknown category,Z9999,,",    # 6: unknown category
        "990103,未知单位,Unknown unit,,nobody,",       # 7: unknown department
        "990101,重复,Twice,,,",                        # 8: duplicate of line 4
        "980101,无父类,Orphan,E0101,,",                # 9: no parent 9801
        "970101,,No name,E0101,,",                     # 10: no name (and no parent)
        "99,测试大类,Test,,,,extra",                   # extra value is ignored? no: dup
    ))
    assert r.status_code == 422
    body = r.get_json()
    assert body["code"] == "import.invalid"
    got = {(e["line"], e["field"], e["code"]) for e in body["errors"]}
    assert {(5, "code", "catalogue.bad_code"),
            (6, "category", "catalogue.unknown_category"),
            (7, "department", "catalogue.unknown_department"),
            (8, "code", "import.duplicate_row"),
            (9, "code", "catalogue.unknown_parent"),
            (10, "name", "import.required"),
            (11, "code", "import.duplicate_row")} <= got
    assert (4, "category", "catalogue.category_required") not in got
    assert _count(engine, "SELECT count(*) FROM request_classes") == before  # nothing


def test_a_leaf_without_a_category_of_its_own_or_inherited_is_refused(
        client, tokens, engine, test_classes):
    r = _upload(client, tokens["admin"], "request-classes", _csv(
        "编码,名称,英文名称", "99,测试大类,Test", "9901,测试中类,Group", "990101,无分类,None"))
    assert r.status_code == 422
    assert [(e["line"], e["field"], e["code"]) for e in r.get_json()["errors"]] == [
        (4, "category", "catalogue.category_required")]


def test_an_unknown_column_is_refused_on_line_one(client, tokens):
    r = _upload(client, tokens["admin"], "request-classes",
                _csv("code,name,colour", "99,测试,red"))
    assert r.status_code == 422
    assert [(e["line"], e["field"], e["code"]) for e in r.get_json()["errors"]] == [
        (1, "colour", "import.unknown_column")]


def test_a_catalogue_imports_from_xlsx_and_is_found_by_its_pinyin(
        client, tokens, engine, test_classes):
    book = Workbook()
    sheet = book.active
    sheet.append(["分类编码", "分类名称", "英文名称", "数字城管分类", "责任单位类型", "关键词"])
    sheet.append(["99", "测试大类", "Test class", None, None, None])
    sheet.append(["9901", "测试中类", "Test group", "E0603", "enforcement", None])
    sheet.append(["990101", "鸽子扰民", "Pigeons disturbing residents", None, None, "鸽哨"])
    buf = io.BytesIO()
    book.save(buf)
    r = _upload(client, tokens["admin"], "request-classes", buf.getvalue(), name="k.xlsx")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["classes"] == 3
    for q in ("鸽子", "gezi", "gzrm", "pigeon", "鸽哨"):
        found = client.get("/api/v1/catalogue/search", query_string={"q": q},
                           headers=auth(tokens["call_taker"])).get_json()
        assert found and found[0]["code"] == "990101", q
        assert found[0]["category"] == "E0603"
        assert found[0]["department"]["code"] == "enforcement"
        assert [p["name"] for p in found[0]["path"]] == ["测试大类", "测试中类"]


def test_only_admins_import_and_workers_do_not_search(client, tokens):
    r = _upload(client, tokens["call_taker"], "request-classes", _csv("code,name", "99,x"))
    assert r.status_code == 403
    r = client.get("/api/v1/catalogue/search", query_string={"q": "垃圾"},
                   headers=auth(tokens["worker"]))
    assert r.status_code == 403


def test_a_dispatch_catalogue_with_bad_rows_imports_nothing(client, tokens, engine):
    before = _count(engine, "SELECT count(*) FROM dispatch_entries")
    r = _upload(client, tokens["admin"], "dispatch-entries", _csv(
        "class,area,department,note",
        "010101,110101006,street_office,test",   # 2: fine
        "999999,,sanitation,test",               # 3: unknown class
        "010101,110199,sanitation,test",         # 4: unknown area
        "010101,11010x,sanitation,test",         # 5: bad area
        "010102,,nobody,test",                   # 6: unknown department
        "010101,110101006,sanitation,test",      # 7: same class and area as line 2
    ))
    assert r.status_code == 422
    assert [(e["line"], e["field"], e["code"]) for e in r.get_json()["errors"]] == [
        (3, "class", "catalogue.unknown_class"), (4, "area", "catalogue.unknown_area"),
        (5, "area", "catalogue.bad_area"), (6, "department", "catalogue.unknown_department"),
        (7, "area", "import.duplicate_row")]
    assert _count(engine, "SELECT count(*) FROM dispatch_entries") == before


def test_the_cli_imports_and_reports_every_problem(tmp_path, settings, monkeypatch, engine,
                                                   test_classes):
    from click.testing import CliRunner

    from gridsnap.cli import main
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv("address,lon,lat", "测试地址1号,116.41,39.918", "测试地址2号,abc,39.9",
                         "测试地址3号,2.35,48.85"))
    out = CliRunner().invoke(main, ["catalogue", "import-addresses", str(bad)])
    assert out.exit_code != 0
    assert "line 3, lon: import.bad_number" in out.output
    assert "line 4, lon: address.outside_grid" in out.output
    assert _count(engine, "SELECT count(*) FROM address_points WHERE address LIKE '测试%'") == 0
    good = tmp_path / "good.csv"
    good.write_bytes(_csv("地址,经度,纬度", "测试地址1号,116.41,39.918"))
    out = CliRunner().invoke(main, ["catalogue", "import-addresses", str(good)])
    assert out.exit_code == 0, out.output
    assert _count(engine, "SELECT count(*) FROM address_points WHERE address LIKE '测试%'") == 1


# --- search ----------------------------------------------------------------------------------

@pytest.mark.parametrize("q", ["垃圾清运", "laji", "ljqy", "rubbish not"])
def test_the_call_taker_finds_a_class_by_chinese_pinyin_initials_or_english(client, tokens, q):
    found = client.get("/api/v1/catalogue/search", query_string={"q": q},
                       headers=auth(tokens["call_taker"])).get_json()
    codes = [c["code"] for c in found]
    assert "010101" in codes, (q, codes)
    hit = found[codes.index("010101")]
    assert hit["name"] == "垃圾清运不及时" and hit["leaf"] is True
    assert hit["department"]["code"] == "sanitation" and hit["department"]["name"]
    assert [p["name"] for p in hit["path"]] == ["城市管理", "环境卫生"]


def test_search_names_the_unit_the_catalogue_sends_a_class_to_in_the_area(client, tokens):
    def unit(area):
        found = client.get("/api/v1/catalogue/search",
                           query_string={"q": "占道经营", **({"area": area} if area else {})},
                           headers=auth(tokens["call_taker"])).get_json()
        return found[0]["code"], found[0]["department"]["code"], found[0][
            "from_dispatch_catalogue"]
    assert unit(None) == ("010201", "enforcement", True)
    assert unit(DONGSI_CELL) == ("010201", "street_office", True)  # 东四: the street first
    assert unit(DHM_COMMUNITY) == ("010201", "enforcement", True)


# --- dispatch --------------------------------------------------------------------------------

def test_a_hotline_case_is_dispatched_by_the_catalogue_for_its_area(
        client, tokens, engine, runtime):
    # 社会生活噪声: the street office in 东华门 (its own entry), enforcement elsewhere
    dhm = _cell_point(engine, DHM_COMMUNITY)
    ds = _cell_point(engine, DONGSI_CELL)
    c1 = take_call(client, tokens, _now_body(dhm, request_class="050102", category=None))
    c2 = take_call(client, tokens, _now_body(ds, request_class="050102", category=None))
    assert c1["category"] == "E0603"  # the class's category
    assert c1["request_class"] == {"code": "050102", "name": "社会生活噪声",
                                   "name_en": "Neighbourhood noise"}
    drain(runtime)
    for cid, dept in ((c1["id"], "street_office"), (c2["id"], "enforcement")):
        c = client.get(f"/api/v1/cases/{cid}", headers=auth(tokens["supervisor"])).get_json()
        assert (c["suggested_department"], c["routing_source"]) == (dept, "catalogue")
        act(client, tokens, "supervisor", cid, "accept")
        done = act(client, tokens, "supervisor", cid, "dispatch")
        assert done["department"] == dept
    # the unit is the street office of the case's street: 东华门's sees it, 东四's does not
    assert client.get(f"/api/v1/cases/{c1['id']}",
                      headers=auth(tokens["handler2"])).status_code == 200
    assert client.get(f"/api/v1/cases/{c1['id']}",
                      headers=auth(tokens["handler3"])).status_code == 404


def test_a_call_names_a_class_or_a_category(client, tokens, demo_cell):
    r = take_call(client, tokens, _now_body(demo_cell, category=None), expect=422)
    assert r["code"] == "request.invalid" and "category" in r["fields"]
    r = take_call(client, tokens, _now_body(demo_cell, request_class="999999"), expect=422)
    assert r["code"] == "request.invalid" and "request_class" in r["fields"]
    # a level-1 class has no category: a category must come with it
    r = take_call(client, tokens, _now_body(demo_cell, request_class="01", category=None),
                  expect=422)
    assert "request_class" in r["fields"]


# --- address points ----------------------------------------------------------------------------

def test_address_points_with_bad_rows_import_nothing(client, tokens, engine):
    before = _count(engine, "SELECT count(*) FROM address_points")
    r = _upload(client, tokens["admin"], "address-points", _csv(
        "address,address_en,lon,lat",
        "测试胡同1号,No. 1 Test,116.41,39.918",   # 2: fine
        ",,116.41,39.918",                        # 3: no address
        "测试胡同2号,,116.41,95",                  # 4: latitude out of range
        "测试胡同 1 号,,116.41,39.918",            # 5: the same address as line 2
        "测试胡同3号,,121.47,31.23",               # 6: Shanghai: outside the grid
    ))
    assert r.status_code == 422
    assert [(e["line"], e["field"], e["code"]) for e in r.get_json()["errors"]] == [
        (3, "address", "import.required"), (4, "lat", "address.out_of_range"),
        (5, "address", "import.duplicate_row"), (6, "lon", "address.outside_grid")]
    assert _count(engine, "SELECT count(*) FROM address_points") == before


def test_a_typed_address_is_placed_by_its_address_point_and_gets_its_cell(
        client, tokens, engine):
    with engine.connect() as conn:
        point = conn.execute(text(
            "SELECT id, area_code, ST_X(location) AS lon, ST_Y(location) AS lat "
            "FROM address_points WHERE address = '东城区多福巷12号'")).mappings().one()
    assert len(point["area_code"]) >= 14  # a cell
    found = client.get("/api/v1/hotline/address", query_string={"q": "多福巷１２号"},
                       headers=auth(tokens["call_taker"])).get_json()
    assert found["source"] == "address" and found["address"] == "东城区多福巷12号"
    assert found["code"] == point["area_code"] and found["level"] == "cell"
    c = take_call(client, tokens, _now_body(address="多福巷12号 3单元"))
    assert c["cell"]["code"] == point["area_code"]
    assert (c["location"]["lon"], c["location"]["lat"]) == pytest.approx(
        (point["lon"], point["lat"]))
    # a list as the call-taker types; a chosen point by its id
    listed = client.get("/api/v1/hotline/addresses", query_string={"q": "多福巷1"},
                        headers=auth(tokens["call_taker"])).get_json()
    assert {a["address"] for a in listed} >= {"东城区多福巷1号", "东城区多福巷12号",
                                              "东城区多福巷19号"}
    english = client.get("/api/v1/hotline/addresses", query_string={"q": "12 Duofu"},
                         headers=auth(tokens["call_taker"])).get_json()
    assert [a["address"] for a in english] == ["东城区多福巷12号"]
    c = take_call(client, tokens, _now_body(address=None, address_id=point["id"]))
    assert c["cell"]["code"] == point["area_code"] and c["address"] == "东城区多福巷12号"
    # an ambiguous fragment falls back to the grid's names
    found = client.get("/api/v1/hotline/address", query_string={"q": "多福巷社区 多福巷1"},
                       headers=auth(tokens["call_taker"])).get_json()
    assert found["source"] == "area" and found["code"] == DHM_COMMUNITY


def test_a_file_that_is_no_table_or_holds_control_characters_is_refused(client, tokens):
    r = _upload(client, tokens["admin"], "address-points", b"PK\x03\x04not a workbook",
                name="a.xlsx")
    assert r.status_code == 422
    assert [(e["line"], e["code"]) for e in r.get_json()["errors"]] == [
        (0, "import.unreadable")]
    r = _upload(client, tokens["admin"], "address-points", b"\xff\xfeaddress")
    assert [e["code"] for e in r.get_json()["errors"]] == ["import.not_utf8"]
    r = _upload(client, tokens["admin"], "address-points",
                _csv("address,lon,lat", "测试\x00胡同,116.41,39.918"))
    assert [(e["line"], e["field"], e["code"]) for e in r.get_json()["errors"]] == [
        (2, "address", "import.bad_text")]
    r = client.post("/api/v1/catalogue/address-points", headers=auth(tokens["admin"]))
    assert r.status_code == 422 and "file" in r.get_json()["fields"]


def test_the_catalogues_export_in_their_import_columns_and_import_again_unchanged(
        tmp_path, settings, monkeypatch, client, tokens):
    from click.testing import CliRunner

    from gridsnap.cli import main
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    listed = client.get("/api/v1/catalogue/request-classes",
                        headers=auth(tokens["supervisor"])).get_json()
    entries = client.get("/api/v1/catalogue/dispatch-entries",
                         headers=auth(tokens["supervisor"])).get_json()
    assert {"code": "010101", "parent_code": "0101", "level": 3, "name": "垃圾清运不及时",
            "name_en": "Rubbish not collected in time", "category": "E0102",
            "department": "sanitation", "keywords": "垃圾 清运 垃圾桶 满溢",
            "active": True} in listed
    assert any((e["class"], e["area"], e["department"]) == ("010201", "110101006",
                                                             "street_office") for e in entries)
    for which, path in (("classes", "request-classes"), ("dispatch", "dispatch-entries")):
        out = tmp_path / f"{which}.csv"
        r = CliRunner().invoke(main, ["catalogue", "export", which, str(out)])
        assert r.exit_code == 0, r.output
        again = _upload(client, tokens["admin"], path, out.read_bytes())
        assert again.status_code == 200, again.get_json()
    assert client.get("/api/v1/catalogue/request-classes",
                      headers=auth(tokens["supervisor"])).get_json() == listed
    assert client.get("/api/v1/catalogue/dispatch-entries",
                      headers=auth(tokens["supervisor"])).get_json() == entries
