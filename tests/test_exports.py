"""Exports: cases and the indicator table as CSV (UTF-8 with a BOM), XLSX and GeoJSON, with
Chinese headers and the grid codes, parsed back."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest

from cases_helpers import submit
from hotline_helpers import call_body, take_call

from conftest import auth
from evaluation_samples import cst, put_case, user_id


def _export(client, token, path, expect=200, **params):
    r = client.get(f"/api/v1/exports/{path}", query_string=params, headers=auth(token))
    # read it all: a streamed body holds its database session until it is consumed or closed
    body = r.get_data()
    assert r.status_code == expect, body[:300]
    return r


def test_case_exports_parse_back_with_chinese_headers_and_grid_codes(
        sc, tokens, november, cells, engine, at):
    from openpyxl import load_workbook

    at(cst(12, 5, 9))
    w2 = user_id(engine, "worker2")
    put_case(engine, cells["other"], received=cst(11, 3, 9), status="reported", reporter=w2,
             category="E0101")

    # CSV: UTF-8 with a BOM, Chinese headers, streamed
    r = _export(sc, tokens["supervisor"], "cases.csv", area="110101001", status=["closed"])
    assert r.mimetype == "text/csv" and "attachment" in r.headers["Content-Disposition"]
    raw = r.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert {"案件编号", "类别", "状态", "上报时间", "网格编码", "社区", "街道", "区县"} <= set(rows[0])
    assert len(rows) == 7  # A B C D L M K
    a = next(x for x in rows if x["案件ID"] == str(november["A"]))
    assert (a["状态"], a["类别编码"], a["类别"]) == ("已结案", "E0102", "积存垃圾渣土")
    assert a["上报时间"] == "2026-11-02 09:00:00"  # Beijing time
    assert a["网格编码"] == cells["cell"]["code"] and a["社区编码"] == cells["cell"]["code"][:12]
    assert (a["街道编码"], a["街道"], a["区县编码"], a["区县"]) == (
        "110101001", "东华门街道", "110101", "东城区")
    assert a["网格"] and a["社区"] and a["处置部门"].startswith("东城区")

    # from/to are days of receipt; the worker's export leaves out the other community
    r = _export(sc, tokens["worker"], "cases.csv", **{"from": "2026-11-01", "to": "2026-11-30"})
    got = list(csv.DictReader(io.StringIO(r.get_data().decode("utf-8-sig"))))
    assert len(got) == 12 and all(x["街道编码"] == "110101001" for x in got)
    r = _export(sc, tokens["supervisor"], "cases.csv", **{"from": "2026-11-01", "to": "2026-11-30"})
    assert len(list(csv.DictReader(io.StringIO(r.get_data().decode("utf-8-sig"))))) == 13

    # XLSX: Chinese header row, times as dates in Beijing time, a notes sheet
    r = _export(sc, tokens["supervisor"], "cases.xlsx", area="110101001001",
                category="E0102", overdue="false")
    book = load_workbook(io.BytesIO(r.get_data()), read_only=True)
    assert book.sheetnames == ["案件", "说明"]
    sheet = list(book["案件"].iter_rows(values_only=True))
    head, body = sheet[0], sheet[1:]
    assert head[:5] == ("案件编号", "类别编码", "类别", "状态", "上报时间")
    assert len(body) == 12  # the E0102 cases of the community: all but F and G (C0101)
    byid = {row[head.index("案件ID")]: dict(zip(head, row, strict=True)) for row in body}
    a = byid[str(november["A"])]
    assert a["上报时间"] == datetime(2026, 11, 2, 9, 0) and a["状态"] == "已结案"
    assert a["网格编码"] == cells["cell"]["code"] and a["区县"] == "东城区"
    assert isinstance(a["经度"], float) and a["返工次数"] == 0

    # GeoJSON: points with the grid codes
    r = _export(sc, tokens["supervisor"], "cases.geojson", status=["rejected", "duplicate"])
    assert r.mimetype == "application/geo+json"
    fc = json.loads(r.get_data())
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 3  # H I J
    f = fc["features"][0]
    assert f["geometry"]["type"] == "Point"
    assert f["geometry"]["coordinates"] == pytest.approx([cells["cell"]["lon"],
                                                          cells["cell"]["lat"]])
    props = f["properties"]
    assert props["cell_code"] == cells["cell"]["code"] and props["district_name"] == "东城区"
    assert props["received_at"].endswith("+08:00")


def test_csv_cells_that_look_like_formulas_are_defused(sc, tokens, client, demo_cell):
    submit(client, tokens, demo_cell, description="=HYPERLINK(\"http://x\",\"点我\")")
    r = _export(sc, tokens["supervisor"], "cases.csv")
    rows = list(csv.DictReader(io.StringIO(r.get_data().decode("utf-8-sig"))))
    assert rows[0]["问题描述"].startswith("'=")


def test_xlsx_beyond_the_cap_is_a_clear_422(sc, tokens, november, monkeypatch):
    from gridsnap.exports import rules

    monkeypatch.setattr(rules, "XLSX_MAX_ROWS", 5)
    r = _export(sc, tokens["supervisor"], "cases.xlsx", expect=422)
    body = r.get_json()
    assert body["code"] == "export.too_many_rows" and "CSV" in body["message"]
    _export(sc, tokens["supervisor"], "cases.xlsx", status=["rejected"])  # 1 row: fine
    _export(sc, tokens["supervisor"], "cases.csv")  # CSV has no cap


def test_indicator_exports_parse_back(sc, tokens, november, at):
    from openpyxl import load_workbook

    at(cst(12, 5, 9))
    r = _export(sc, tokens["supervisor"], "indicators.csv", period="2026-11", group="community",
                area="110101001")
    assert "indicators-2026-11-community.csv" in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.get_data().decode("utf-8-sig"))))
    assert [x["社区编码"] for x in rows] == ["110101001001", ""]
    row, total = rows
    assert row["社区"] and row["社区"] != "合计"  # the community's name
    assert (row["街道编码"], row["街道"], row["区县编码"], row["区县"]) == (
        "110101001", "东华门街道", "110101", "东城区")
    assert total["社区"] == "合计"
    assert (total["立案数"], total["应结案数"], total["结案数"]) == ("10", "8", "5")
    assert (total["结案率"], total["按期结案率"], total["返工率"]) == ("62.50%", "37.50%", "16.67%")
    r = _export(sc, tokens["supervisor"], "indicators.csv", period="2026-11", group="department",
                area="110101001")
    water = next(x for x in csv.DictReader(io.StringIO(r.get_data().decode("utf-8-sig")))
                 if x["处置部门编码"] == "water")
    assert water["结案率"] == "—" and water["应结案数"] == "0"

    r = _export(sc, tokens["supervisor"], "indicators.xlsx", period="2026-11", group="street",
                area="110101001")
    book = load_workbook(io.BytesIO(r.get_data()), read_only=True)
    sheet = list(book["综合评价"].iter_rows(values_only=True))
    head = sheet[0]
    assert head[:4] == ("区县编码", "区县", "街道编码", "街道")
    assert "结案率" in head and "一次完成率" in head and "处置用时中位数（小时）" in head
    row = dict(zip(head, sheet[1], strict=True))
    assert row["街道编码"] == "110101001" and row["立案数"] == 10
    assert row["结案率"] == pytest.approx(0.625) and row["处置用时中位数（小时）"] == 5.0
    notes = dict(book["说明"].iter_rows(values_only=True))
    assert notes["统计周期"] == "2026-11-01 至 2026-11-30"
    # the new indicators, with their English names in the notes
    assert row["派遣准确率"] == pytest.approx(0.9) and row["返工次数"] == 1
    assert row["应结案数"] == 8 and row["综合指标值"] == pytest.approx(62.55)
    assert notes["派遣准确率"] == "Dispatch accuracy = Right dispatches ÷ Dispatches"
    assert notes["综合指标值"] == "Composite score"


def _trail_views(client, tokens, case_id) -> list[dict]:
    trail = client.get(f"/api/v1/cases/{case_id}/events", headers=auth(tokens["admin"])).get_json()
    return [e for e in trail if e["action"] == "caller.viewed"]


def test_callers_leave_in_an_export_only_when_an_admin_asks_and_every_such_case_is_audited(
        sc, tokens, client, demo_cell):
    from openpyxl import load_workbook

    hot = take_call(client, tokens, call_body(
        demo_cell, caller={"name": "=1+2", "phone": "+86 13812341234", "anonymous": True}))["id"]
    plain = submit(client, tokens, demo_cell)  # a worker's report: no caller

    # without the option: no caller column, the number nowhere, nothing on the trail
    for persona in ("supervisor", "admin"):
        raw = _export(sc, tokens[persona], "cases.csv").get_data().decode("utf-8-sig")
        assert "来电人电话" not in raw and "13812341234" not in raw and "=1+2" not in raw
    # anyone but an admin asking for it: 403, and nothing is written
    for persona in ("supervisor", "call_taker", "worker"):
        r = _export(sc, tokens[persona], "cases.csv", expect=403, with_callers="true")
        assert r.get_json()["code"] == "export.callers_forbidden"
    assert _trail_views(client, tokens, hot) == []

    # an admin's CSV: the caller as stored, formulas defused as in the other columns
    r = _export(sc, tokens["admin"], "cases.csv", with_callers="true")
    rows = {x["案件ID"]: x for x in csv.DictReader(io.StringIO(r.get_data().decode("utf-8-sig")))}
    h, p = rows[hot], rows[plain]
    assert (h["来电人姓名"], h["来电人电话"], h["是否匿名"]) == ("'=1+2", "'+86 13812341234", "是")
    assert (p["来电人姓名"], p["来电人电话"], p["是否匿名"]) == ("", "", "")
    views = _trail_views(client, tokens, hot)
    assert len(views) == 1 and views[0]["actor_role"] == "admin"
    assert views[0]["data"]["via"] == "export" and views[0]["data"]["format"] == "csv"
    assert _trail_views(client, tokens, plain) == []  # only cases that have a caller

    # XLSX: strings, never formulas; GeoJSON: properties; each export one more event per case
    r = _export(sc, tokens["admin"], "cases.xlsx", with_callers="true", source="hotline")
    sheet = load_workbook(io.BytesIO(r.get_data()))["案件"]
    head = [c.value for c in sheet[1]]
    name_cell = sheet.cell(row=2, column=head.index("来电人姓名") + 1)
    assert (name_cell.value, name_cell.data_type) == ("=1+2", "s")
    assert sheet.cell(row=2, column=head.index("来电人电话") + 1).value == "+86 13812341234"
    r = _export(sc, tokens["admin"], "cases.geojson", with_callers="true", source="hotline")
    props = json.loads(r.get_data())["features"][0]["properties"]
    assert props["caller_phone"] == "+86 13812341234" and props["caller_anonymous"] is True
    assert [v["data"]["format"] for v in _trail_views(client, tokens, hot)] == [
        "csv", "xlsx", "geojson"]


def test_a_hotline_case_exports_its_request_class_and_address_point(sc, tokens, client):
    from openpyxl import load_workbook

    point = client.get("/api/v1/hotline/addresses", query_string={"q": "多福巷12号"},
                       headers=auth(tokens["call_taker"])).get_json()[0]
    hot = take_call(client, tokens, call_body(request_class="010101", category=None,
                                              address_id=point["address_id"]))
    case = client.get(f"/api/v1/cases/{hot['id']}", headers=auth(tokens["supervisor"])).get_json()
    assert case["request_class"]["code"] == "010101"
    assert case["address_point"] == {"id": point["address_id"], "address": "东城区多福巷12号",
                                     "address_en": case["address_point"]["address_en"]}

    r = _export(sc, tokens["supervisor"], "cases.csv", source="hotline")
    row = next(x for x in csv.DictReader(io.StringIO(r.get_data().decode("utf-8-sig")))
               if x["案件ID"] == hot["id"])
    assert (row["诉求分类编码"], row["诉求分类"]) == ("010101", "垃圾清运不及时")
    assert (row["门牌ID"], row["门牌地址"]) == (str(point["address_id"]), "东城区多福巷12号")
    sheet = load_workbook(io.BytesIO(_export(sc, tokens["supervisor"], "cases.xlsx",
                                             source="hotline").get_data()))["案件"]
    head = [c.value for c in sheet[1]]
    line = next(r for r in sheet.iter_rows(min_row=2, values_only=True)
                if r[head.index("案件ID")] == hot["id"])
    assert line[head.index("诉求分类")] == "垃圾清运不及时"
    assert line[head.index("门牌ID")] == point["address_id"]
    feats = json.loads(_export(sc, tokens["supervisor"], "cases.geojson",
                               source="hotline").get_data())["features"]
    props = next(f["properties"] for f in feats if f["id"] == hot["id"])
    assert (props["request_class_code"], props["address_point"]) == ("010101", "东城区多福巷12号")
    assert props["address_point_id"] == point["address_id"]


def test_csv_written_by_postgresql_is_byte_for_byte_the_python_writers(
        sc, tokens, client, november, demo_cell, monkeypatch):
    """The case CSV comes from PostgreSQL's COPY; the same rows through Python's csv writer
    (the path of an export with callers) give the same bytes: quoting, line breaks inside a
    value, defused formulas, empty and missing values, times in the deployment's zone."""
    from gridsnap.exports import service

    for text_ in ("a, b", 'say "hi"', "line1\nline2", "crlf\r\nend", "-5 度", "+86 10",
                  "@here", "\tTab", " leading space", "=1+1", "'quoted", "表情 🙂", "x" * 300):
        submit(client, tokens, demo_cell, description=text_, address=text_[:100])
    submit(client, tokens, demo_cell, description="no address")
    copied = _export(sc, tokens["supervisor"], "cases.csv").get_data()
    filtered = _export(sc, tokens["supervisor"], "cases.csv", status=["closed"],
                       **{"from": "2026-11-01", "to": "2026-11-30"}).get_data()

    def python_writer(columns, sessions, principal, filters, tz):
        return service._csv_chunks(
            columns, service._streamed(sessions, principal, filters, None), tz)

    monkeypatch.setattr(service, "_csv_copied", python_writer)
    written = _export(sc, tokens["supervisor"], "cases.csv").get_data()
    assert copied.count(b"\r\n") > 20 and b"line1\nline2" in copied
    assert copied == written
    assert filtered == _export(sc, tokens["supervisor"], "cases.csv", status=["closed"],
                               **{"from": "2026-11-01", "to": "2026-11-30"}).get_data()
    assert filtered.count(b"\r\n") > 1
