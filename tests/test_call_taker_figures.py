"""The hotline's own figures per call-taker (docs/indicators.md): calls taken, callbacks made
and reached, 平均受理时长 from the call's start to the request recorded — worked out by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cases_helpers import act, evidence
from hotline_helpers import REACHED_SATISFIED, call_body, callback, take_call

from conftest import PERSONAS, auth
from followup import drain

CST = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 10, 9, 0, tzinfo=CST)


def _call(client, tokens, cell, at, when, seconds, **over):
    at(when)
    return take_call(client, tokens, call_body(
        cell, called_at=(when - timedelta(seconds=seconds)).isoformat(), **over))["id"]


def test_call_taker_figures_of_a_hand_worked_month(client, tokens, demo_cell, runtime, at):
    # four calls: recorded 90 s, 150 s and (a consultation answered on the call) 60 s after
    # they began; one keyed in a day later from paper: not timed
    a = _call(client, tokens, demo_cell, at, T0, 90)
    _call(client, tokens, demo_cell, at, T0 + timedelta(hours=1), 150)
    _call(client, tokens, demo_cell, at, T0 + timedelta(hours=2), 60, nature="consultation",
          answer="可在工作日到街道办事处办理。")
    _call(client, tokens, demo_cell, at, T0 + timedelta(days=1), 86400)
    drain(runtime)
    # A handled and closed; called back twice: not reached, then reached
    at(T0 + timedelta(days=2))
    act(client, tokens, "supervisor", a, "accept")
    act(client, tokens, "supervisor", a, "dispatch")
    act(client, tokens, "handler", a, "sign")
    act(client, tokens, "handler", a, "record_contact", contact={"outcome": "reached"})
    act(client, tokens, "handler", a, "resolve",
        photo_ids=[evidence(client, tokens, "handler", a, "resolution")])
    act(client, tokens, "supervisor", a, "close")
    at(T0 + timedelta(days=3))
    callback(client, tokens, a, callback={"reached": False})
    callback(client, tokens, a, callback=REACHED_SATISFIED)

    at(T0 + timedelta(days=30))
    r = client.get("/api/v1/stats/call-takers", query_string={"period": "2026-11"},
                   headers=auth(tokens["supervisor"]))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    [row] = body["rows"]  # the handler and the supervisor took no call and called no one
    assert row["user"]["username"] == PERSONAS["call_taker"]
    expected = {"calls": 4, "consultations": 1, "timed_calls": 3, "callbacks": 2,
                "callbacks_reached": 1, "callback_reach_rate": 50.0,
                # (90 + 150 + 60) ÷ 3
                "average_handling_seconds": 100.0}
    assert {k: row[k] for k in expected} == expected
    assert {k: body["total"][k] for k in expected} == expected
    assert body["handling_max_seconds"] == 4 * 3600
    # October: nothing
    empty = client.get("/api/v1/stats/call-takers", query_string={"period": "2026-10"},
                       headers=auth(tokens["supervisor"])).get_json()
    assert empty["rows"] == [] and empty["total"]["average_handling_seconds"] is None
    assert empty["total"]["callback_reach_rate"] is None


def test_call_taker_figures_export(client, sc, tokens, demo_cell, runtime, at):
    import csv
    import io

    from openpyxl import load_workbook

    _call(client, tokens, demo_cell, at, T0, 90)
    _call(client, tokens, demo_cell, at, T0 + timedelta(hours=1), 30)
    at(T0 + timedelta(days=30))
    r = sc.get("/api/v1/exports/call-takers.csv", query_string={"period": "2026-11"},
               headers=auth(tokens["supervisor"]))
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data().decode("utf-8-sig"))))
    assert [x["话务员账号"] for x in rows] == [PERSONAS["call_taker"], "合计"]
    assert (rows[0]["受理数"], rows[0]["平均受理时长（秒）"], rows[0]["回访接通率"]) == (
        "2", "60.00", "—")
    r = sc.get("/api/v1/exports/call-takers.xlsx", query_string={"period": "2026-11"},
               headers=auth(tokens["supervisor"]))
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.get_data()))["话务员"]
    head = [c.value for c in sheet[1]]
    assert head[:3] == ["话务员账号", "话务员", "受理数"]
    assert sheet.cell(row=3, column=1).value == "合计"
