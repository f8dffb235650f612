"""The monthly 考评 ranking (docs/indicators.md): streets and units ranked by the weighted three
rates (三率) of the hotline's requests, with requests per 10,000 residents and the places gained
since last month — two months worked out by hand, through the API and its CSV/XLSX exports."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from cases_helpers import act, evidence
from gridsnap.cli import main as cli
from gridsnap.stats import rules
from gridsnap.stats.service import import_populations
from hotline_helpers import REACHED_DISSATISFIED, REACHED_SATISFIED, call_body, callback, take_call

from conftest import auth
from followup import drain

CST = ZoneInfo("Asia/Shanghai")
DONGHUAMEN, JINGSHAN, DONGSI = "110101001", "110101002", "110101006"


class Clock:
    """The application's clock, moved a minute at each tick (the trail keeps its order)."""

    def __init__(self, at, start: datetime):
        self.at, self.now = at, start
        at(start)

    def tick(self) -> datetime:
        self.now += timedelta(minutes=1)
        self.at(self.now)
        return self.now


def _cell_of(engine, street: str) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(text("""
            SELECT code, ST_X(ST_PointOnSurface(boundary)) AS lon,
                   ST_Y(ST_PointOnSurface(boundary)) AS lat
              FROM areas WHERE level = 'cell' AND starts_with(code, :street)
               AND ST_NumGeometries(boundary) = 1
             ORDER BY code LIMIT 1"""), {"street": street}).mappings().one())


def _rated_request(client, tokens, runtime, clk, cell, result) -> str:
    """A complaint taken, dispatched to sanitation, contacted, resolved, closed and called back
    with `result`."""
    clk.tick()
    cid = take_call(client, tokens, call_body(
        cell, called_at=(clk.now - timedelta(minutes=1)).isoformat()))["id"]
    drain(runtime)
    for persona, action, extra in (
            ("supervisor", "accept", {}), ("supervisor", "dispatch", {}),
            ("handler", "sign", {}),
            ("handler", "record_contact", {"contact": {"outcome": "reached"}})):
        clk.tick()
        act(client, tokens, persona, cid, action, **extra)
    clk.tick()
    act(client, tokens, "handler", cid, "resolve",
        photo_ids=[evidence(client, tokens, "handler", cid, "resolution")])
    clk.tick()
    act(client, tokens, "supervisor", cid, "close")
    clk.tick()
    callback(client, tokens, cid, callback=result)
    return cid


UNSOLVED = {"reached": True, "responded": True, "solved": False, "satisfaction": "dissatisfied"}


@pytest.fixture()
def two_months(client, tokens, runtime, engine, at):
    """October: 东华门 two requests, both satisfied (100, 100, 100 → 100.00); 东四 one,
    responded but unsolved and dissatisfied (100, 0, 0 → 10.00). November: 东华门 one satisfied
    and one unsolved (100, 50, 50 → 55.00), plus one dissatisfied whose rating the centre
    reduces on appeal (核减: it leaves the rates); 东四 one satisfied (100.00); 景山 one request
    not yet called back (no rate: unranked)."""
    dhm, ds, js = (_cell_of(engine, s) for s in (DONGHUAMEN, DONGSI, JINGSHAN))
    clk = Clock(at, datetime(2026, 10, 12, 9, 0, tzinfo=CST))
    for _ in range(2):
        _rated_request(client, tokens, runtime, clk, dhm, REACHED_SATISFIED)
    _rated_request(client, tokens, runtime, clk, ds, UNSOLVED)
    clk.now = datetime(2026, 11, 10, 9, 0, tzinfo=CST)
    _rated_request(client, tokens, runtime, clk, dhm, REACHED_SATISFIED)
    _rated_request(client, tokens, runtime, clk, dhm, UNSOLVED)
    reduced = _rated_request(client, tokens, runtime, clk, dhm, REACHED_DISSATISFIED)
    clk.tick()
    act(client, tokens, "handler", reduced, "appeal", appeal={"reason_kind": "beyond_unit"},
        note="需市级部门审批，已按程序上报")
    clk.tick()
    act(client, tokens, "supervisor", reduced, "approve_appeal")
    _rated_request(client, tokens, runtime, clk, ds, REACHED_SATISFIED)
    clk.tick()
    take_call(client, tokens, call_body(js, called_at=clk.now.isoformat()))
    drain(runtime)
    clk.tick()
    return clk


def test_streets_ranked_by_the_three_rates_with_movement_and_residents(client, tokens,
                                                                       two_months):
    h = auth(tokens["supervisor"])
    r = client.get("/api/v1/stats/ranking", query_string={"period": "2026-11"}, headers=h)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["previous_period"] == "2026-10" and body["group"] == "street"
    assert body["weights"] == [{"rate": "response_rate", "weight": 0.1},
                               {"rate": "resolution_rate", "weight": 0.45},
                               {"rate": "satisfaction_rate", "weight": 0.45}]
    rows = {x["key"]: x for x in body["rows"]}
    assert [x["key"] for x in body["rows"]] == [DONGSI, DONGHUAMEN, JINGSHAN]
    ds, dhm, js = rows[DONGSI], rows[DONGHUAMEN], rows[JINGSHAN]
    # 东四: 1 of 1 responded, solved, satisfied → 100.00; was 2nd in October (10.00): up one
    assert (ds["rank"], ds["score"], ds["previous_rank"], ds["previous_score"],
            ds["movement"]) == (1, 100.0, 2, 10.0, 1)
    # 东华门: three requests, the reduced one out of the rates: 2 rated, 2 responded, 1
    # solved, 1 satisfied → 0.1 × 100 + 0.45 × 50 + 0.45 × 50 = 55.00; was 1st: down one
    assert (dhm["requests"], dhm["reduced_requests"], dhm["rated"], dhm["response_rate"],
            dhm["resolution_rate"], dhm["satisfaction_rate"]) == (3, 1, 2, 100.0, 50.0, 50.0)
    assert (dhm["rank"], dhm["score"], dhm["score_rates"], dhm["previous_rank"],
            dhm["movement"]) == (2, 55.0, 3, 1, -1)
    # per 10,000 residents (fixtures/populations.csv): 3 × 10,000 ÷ 31,200 = 0.96;
    # 1 × 10,000 ÷ 38,500 = 0.26
    assert (dhm["population"], dhm["requests_per_10k"]) == (31200, 0.96)
    assert (ds["population"], ds["requests_per_10k"]) == (38500, 0.26)
    # 景山: a request, nothing rated yet: no score, no rank, last of the list
    assert (js["requests"], js["rank"], js["score"], js["movement"]) == (1, None, None, None)
    assert js["name"] == "景山街道" and js["name_en"] == "Jingshan Subdistrict"

    # October alone: 东华门 first (100.00), 东四 second (10.00), no month before to move from
    octo = client.get("/api/v1/stats/ranking", query_string={"period": "2026-10"},
                      headers=h).get_json()
    assert [(x["key"], x["rank"], x["score"], x["movement"]) for x in octo["rows"]] == [
        (DONGHUAMEN, 1, 100.0, None), (DONGSI, 2, 10.0, None)]

    # the units: every request went to sanitation
    units = client.get("/api/v1/stats/ranking",
                       query_string={"period": "2026-11", "group": "department"},
                       headers=h).get_json()["rows"]
    assert len(units) == 1 and units[0]["population"] is None
    # 3 rated (东华门 2, 东四 1): 3 responded, 2 solved, 2 satisfied → 10 + 30 + 30 = 70.00
    assert (units[0]["rated"], units[0]["rank"], units[0]["score"],
            units[0]["previous_score"]) == (3, 1, 70.0, 70.0)


def test_the_ranking_exports_as_csv_and_xlsx(client, tokens, two_months):
    h = auth(tokens["supervisor"])
    csv = client.get("/api/v1/exports/ranking.csv", query_string={"period": "2026-11"},
                     headers=h)
    assert csv.status_code == 200
    assert csv.headers["Content-Disposition"] == 'attachment; filename="ranking-2026-11-street.csv"'
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("排名,上月排名,升降,街道编码,街道,Street,综合得分")
    assert lines[1].startswith(f"1,2,↑1,{DONGSI},东四街道,Dongsi Subdistrict,100.00,")
    assert lines[2].startswith(f"2,1,↓1,{DONGHUAMEN},东华门街道,Donghuamen Subdistrict,55.00,")
    assert ",100.00%,50.00%,50.00%,3,31200,0.96," in lines[2]
    assert lines[3].startswith(f"—,—,—,{JINGSHAN},景山街道,Jingshan Subdistrict,—,")

    x = client.get("/api/v1/exports/ranking.xlsx", query_string={"period": "2026-11"},
                   headers=h)
    assert x.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(x.get_data()))
    ws = book["考评排名"]
    head = [c.value for c in ws[1]]
    assert head[:7] == ["排名", "上月排名", "升降", "街道编码", "街道", "Street", "综合得分"]
    second = [c.value for c in ws[3]]
    assert second[:7] == [2, 1, "↓1", DONGHUAMEN, "东华门街道", "Donghuamen Subdistrict", 55]
    assert second[head.index("响应率")] == 1.0 and second[head.index("解决率")] == 0.5
    assert second[head.index("万人诉求量")] == 0.96
    notes = {r[0].value: r[1].value for r in book["说明"].iter_rows()}
    assert notes["统计周期"] == "2026-11（对比 2026-10）"
    assert "响应率 × 0.1" in notes["综合得分"]


def test_a_ranking_that_cannot_be_read_is_422(client, tokens):
    h = auth(tokens["supervisor"])
    for q in ({"period": "2026-13"}, {"group": "category"}, {"area": "x1"}):
        r = client.get("/api/v1/stats/ranking", query_string=q, headers=h)
        assert r.status_code == 422 and set(q) <= set(r.get_json()["fields"]), r.get_json()


def test_ranks_per_residents_and_movement_by_hand():
    assert rules.ranks([D("90"), None, D("95"), D("90"), D("80")]) == [2, None, 1, 2, 4]
    assert rules.per_residents(3, 31200) == D("0.96")
    assert rules.per_residents(1, 0) is None and rules.per_residents(1, None) is None
    assert rules.movement(2, 5) == 3 and rules.movement(4, 1) == -3
    assert rules.movement(1, None) is None
    with pytest.raises(ValueError, match="closure_rate"):
        rules.ranking_weights_of((("closure_rate", 1.0),))


def test_populations_import_checks_every_row_first(tmp_path, engine, runtime):
    bad = tmp_path / "p.csv"
    bad.write_text("code,population\n110101001,12000\n999999999,5\n110101002,many\n"
                   "110101001,1\n", encoding="utf-8")
    with runtime.sessions() as s:
        out = import_populations(s, str(bad))
        assert out["written"] == 0
        assert [p["line"] for p in out["problems"]] == [3, 4, 5]
        # nothing written: 东华门 keeps the demo's figure
        assert s.execute(text("SELECT population FROM area_populations "
                              "WHERE area_code = '110101001'")).scalar() == 31200
        s.rollback()


def test_the_populations_command_imports_all_or_nothing(settings, monkeypatch, tmp_path,
                                                        engine, client, tokens):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    bad = tmp_path / "bad.csv"
    bad.write_text("code,population\n110101002,25000\n110101009,1\n", encoding="utf-8")
    out = CliRunner().invoke(cli, ["import-populations", str(bad)])
    assert out.exit_code != 0 and "line 3: 110101009: no such area" in out.output
    good = tmp_path / "good.csv"
    good.write_text("code,population\n110101002,\"25,000\"\n", encoding="utf-8")
    try:
        out = CliRunner().invoke(cli, ["import-populations", str(good), "--source", "2026年统计"])
        assert out.exit_code == 0, out.output
        assert "imported the residents of 1 areas" in out.output
        listed = {p["code"]: p for p in client.get(
            "/api/v1/stats/populations", query_string={"area": "110101002"},
            headers=auth(tokens["supervisor"])).get_json()}
        assert (listed["110101002"]["population"], listed["110101002"]["source"]) == (
            25000, "2026年统计")
        assert listed["110101002001"]["population"] == 8600  # the demo figure, untouched
    finally:  # the demo figure back, for the other tests
        with engine.begin() as conn:
            conn.execute(text("UPDATE area_populations SET population = 24600, "
                              "source = 'demo figure (not census data)' "
                              "WHERE area_code = '110101002'"))
