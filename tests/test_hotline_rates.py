"""The three rates of 接诉即办 (响应率, 解决率, 满意率) for a month worked out by hand
(docs/indicators.md), computed from the cases' trails like every other indicator."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from cases_helpers import act, evidence, submit
from hotline_helpers import REACHED_DISSATISFIED, REACHED_SATISFIED, call_body, callback, take_call

from conftest import auth
from followup import drain


def _close(client, tokens, cid, *, first=True):
    if first:
        act(client, tokens, "supervisor", cid, "accept")
        act(client, tokens, "supervisor", cid, "dispatch")
        act(client, tokens, "handler", cid, "sign")
        # 先行联系: the unit reached the caller at once (响应 needs it, docs/indicators.md)
        act(client, tokens, "handler", cid, "record_contact", contact={"outcome": "reached"})
    act(client, tokens, "handler", cid, "resolve",
        photo_ids=[evidence(client, tokens, "handler", cid, "resolution")])
    act(client, tokens, "supervisor", cid, "close")


def test_three_rates_of_a_hand_worked_month(client, tokens, demo_cell, runtime):
    # 1 即时答复: rated, responded and solved, no callback
    answered = take_call(client, tokens, call_body(
        demo_cell, nature="consultation", answer="可在工作日到街道办事处办理。"))
    # A: 满意 — B: 不满意 and 未解决, left so — C: 不满意, reopened, then 满意 (the latest
    # callback counts) — D: three unanswered tries, unreachable
    a, b, c, d = (take_call(client, tokens, call_body(demo_cell))["id"] for _ in range(4))
    submit(client, tokens, demo_cell)  # a worker's report: a request without callback
    drain(runtime)
    for cid in (a, b, c, d):
        _close(client, tokens, cid)
    callback(client, tokens, a, callback=REACHED_SATISFIED)
    callback(client, tokens, b, callback={"reached": True, "responded": True, "solved": False,
                                          "satisfaction": "dissatisfied"})
    callback(client, tokens, c, callback=REACHED_DISSATISFIED, reopen=True, note="仍有垃圾")
    _close(client, tokens, c, first=False)
    callback(client, tokens, c, callback={**REACHED_SATISFIED,
                                          "satisfaction": "basically_satisfied"})
    for _ in range(3):
        callback(client, tokens, d, callback={"reached": False})

    month = datetime.fromisoformat(answered["received_at"]).astimezone(
        ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    table = client.get("/api/v1/stats/indicators",
                       query_string={"period": month, "group": "source"},
                       headers=auth(tokens["supervisor"])).get_json()
    t = table["total"]
    # 诉求数 counts the hotline's requests only (the worker's report is not one); the three
    # rates are over the dispatched requests: the consultation answered on the call counts in
    # the hotline's own 直接答复率 (1 ÷ 5), not as responded or solved
    assert (t["requests"], t["answered_on_call"], t["dispatched_requests"], t["callbacks"],
            t["callback_unreachable"], t["rated"], t["responded"], t["solved"], t["satisfied"],
            t["reopened"]) == (5, 1, 4, 3, 1, 3, 3, 2, 2, 1)
    # 3 ÷ 3, 2 ÷ 3 (B unsolved), 2 ÷ 3 (A 满意, C 基本满意; B 不满意)
    assert (t["response_rate"], t["resolution_rate"], t["satisfaction_rate"],
            t["direct_answer_rate"]) == (100.0, 66.67, 66.67, 20.0)
    # the totals row separates the sources instead of adding them up into 诉求数
    assert (t["reported_hotline"], t["reported_worker"], t["reported_open311"],
            t["reported"]) == (5, 1, 0, 6)
    assert t["reworked"] == 1  # 重新办理 counts as rework
    rows = {r["key"]: r for r in table["rows"]}
    assert set(rows) == {"hotline", "worker"}
    assert rows["hotline"]["name"] == "12345热线" and rows["hotline"]["requests"] == 5
    assert rows["worker"]["requests"] == 0 and rows["worker"]["response_rate"] is None
    # 立案率 leaves the consultation out of its denominator: 4 of 4 (not 4 of 5)
    assert rows["hotline"]["reported_to_accept"] == 4
    assert rows["hotline"]["acceptance_rate"] == 100.0

    csv = client.get("/api/v1/exports/indicators.csv",
                     query_string={"period": month, "group": "source"},
                     headers=auth(tokens["supervisor"])).get_data(as_text=True)
    head = csv.splitlines()[0]
    assert "响应率" in head and "解决率" in head and "满意率" in head
    assert "66.67%" in csv.splitlines()[-1]


def test_numbers_and_their_exports_can_be_narrowed_to_one_source(client, tokens, demo_cell,
                                                                 runtime):
    take_call(client, tokens, call_body(demo_cell))
    take_call(client, tokens, call_body(demo_cell))
    submit(client, tokens, demo_cell)  # a worker's report
    drain(runtime)
    h = auth(tokens["supervisor"])

    def total(source=None, group="category"):
        q = {"group": group, **({"source": source} if source else {})}
        return client.get("/api/v1/stats/indicators", query_string=q, headers=h).get_json()

    assert total()["total"]["requests"] == 2  # the hotline's requests: not the worker's report
    assert total()["total"]["reported"] == 3
    hot = total("hotline", "source")
    assert hot["source"] == "hotline" and hot["total"]["requests"] == 2
    assert [r["key"] for r in hot["rows"]] == ["hotline"]
    assert total("worker")["total"]["reported_worker"] == 1
    assert total("worker")["total"]["requests"] == 0
    assert total("open311")["total"]["requests"] == 0
    bad = client.get("/api/v1/stats/indicators", query_string={"source": "fax"}, headers=h)
    assert bad.status_code == 422 and "source" in bad.get_json()["fields"]
    r = client.get("/api/v1/stats/top-problems", query_string={"source": "open311"}, headers=h)
    assert r.status_code == 200 and r.get_json()["items"] == []
    csv = client.get("/api/v1/exports/indicators.csv",
                     query_string={"group": "source", "source": "worker"},
                     headers=h).get_data(as_text=True)
    assert "网格员上报" in csv and "12345热线" not in csv
