"""Honest indicators (docs/indicators.md): every rate's numerator is part of its denominator,
派遣准确率 is charged to the dispatcher, and the 综合指标值 says how it treats a rate without a
value and how many rates it rests on."""

from __future__ import annotations

import dataclasses

from gridsnap.stats import service
from gridsnap.stats.rules import RATES
from gridsnap.users.rules import Principal

from evaluation_samples import cst, dispatched, put_case, resolved, user_id, verified

ADMIN = Principal(id=0, username="t", display_name="t", role="admin", scopes=("",))


def _table(runtime, settings=None, **kw) -> dict:
    with runtime.sessions() as s:
        return service.indicator_table(s, ADMIN, settings or runtime.settings,
                                       period="2026-11", area="110101001", **kw)


def _extended(when, due):
    return ("case.extension_approved", when, {"stage": "handle", "due_at": due.isoformat()},
            "sanitation")


def test_every_rate_is_a_part_of_its_denominator_in_every_grouping(runtime, cells, engine, at):
    w = user_id(engine, "worker")
    c = cells["cell"]
    # X1, X2: open, extended before their deadline, not due by the cutoff
    for day in (20, 21):
        put_case(engine, c, received=cst(11, day, 9), accepted=cst(11, day, 9, 10),
                 status="dispatched", reporter=w, department="sanitation", events=(
                     dispatched(cst(11, day, 9, 20), cst(11, day + 5, 9)),
                     _extended(cst(11, day + 2, 9), cst(12, 20, 9))))
    # Y: the one due case, closed in time
    put_case(engine, c, received=cst(11, 2, 9), accepted=cst(11, 2, 9, 10), status="closed",
             reporter=w, department="sanitation", events=(
                 dispatched(cst(11, 2, 9, 20), cst(11, 3, 9, 20)), resolved(cst(11, 2, 11)),
                 verified(cst(11, 2, 13))))
    # Z: whistled, and the lead's return took effect at once: a return of no dispatch
    put_case(engine, c, received=cst(11, 4, 9), accepted=cst(11, 4, 9, 10), status="accepted",
             reporter=w, events=(
                 ("case.whistled", cst(11, 4, 9, 20), {"lead": "sanitation", "co": [],
                  "stage": "handle", "due_at": cst(11, 5, 9).isoformat()}, "sanitation"),
                 ("case.returned", cst(11, 4, 10), {"review": False, "stage": "accept",
                  "due_at": cst(11, 4, 12).isoformat()}, "sanitation")))
    # a consultation answered on the call and a hotline complaint called back
    put_case(engine, c, received=cst(11, 6, 9), status="closed", reporter=w, source="hotline",
             nature="consultation", events=(("case.answered", cst(11, 6, 9, 1), {}, None),))
    put_case(engine, c, received=cst(11, 7, 9), accepted=cst(11, 7, 9, 5), status="closed",
             reporter=w, source="hotline", nature="complaint", department="sanitation",
             events=(dispatched(cst(11, 7, 9, 20), cst(11, 8, 9)), resolved(cst(11, 7, 11)),
                     verified(cst(11, 7, 13)),
                     ("case.callback_recorded", cst(11, 8, 9), {
                         "reached": True, "responded": True, "solved": True,
                         "satisfaction": "satisfied"}, None)))
    at(cst(12, 5, 9))
    for group in ("street", "department", "category", "source", "dispatcher", "handler"):
        table = _table(runtime, group=group)
        for row in [*table["rows"], table["total"]]:
            assert row["wrong_dispatches"] <= row["dispatches"], (group, row["key"])
            for rate in RATES:
                num, den = row[rate.numerator], row[rate.denominator]
                assert 0 <= num <= den, (group, row["key"], rate.key, num, den)
                assert row[rate.key] is None or 0 <= row[rate.key] <= 100, (group, rate.key)
    t = _table(runtime, group="street")["total"]
    # 延期率 over 应结案 (Y, the complaint, Z late in the accept stage): X1 and X2 are extended
    # but not due (it read 200 % with Y alone due before)
    assert (t["due"], t["extended"], t["extended_due"], str(t["extension_rate"])) == (
        3, 2, 0, "0.00")


def test_dispatch_accuracy_is_charged_to_the_dispatcher(runtime, cells, engine, at):
    w = user_id(engine, "worker")
    sup = user_id(engine, "supervisor")
    c = cells["cell"]
    # R: the supervisor dispatched it to enforcement by mistake; enforcement handed it back,
    # the return was approved, and the supervisor dispatched it to sanitation
    put_case(engine, c, received=cst(11, 3, 9), accepted=cst(11, 3, 9, 10), status="closed",
             reporter=w, department="sanitation", events=(
                 (*dispatched(cst(11, 3, 9, 20), cst(11, 4, 9), "enforcement"), sup),
                 ("case.returned", cst(11, 3, 10), {"review": True}, "enforcement"),
                 ("case.return_approved", cst(11, 3, 11), {"stage": "accept",
                  "due_at": cst(11, 3, 13).isoformat()}, None, sup),
                 (*dispatched(cst(11, 3, 12), cst(11, 4, 12)), sup),
                 resolved(cst(11, 3, 14)), verified(cst(11, 3, 16))))
    # S: dispatched by the system (a category that auto-dispatches), right
    put_case(engine, c, received=cst(11, 5, 9), accepted=cst(11, 5, 9), status="dispatched",
             reporter=w, department="sanitation",
             events=(dispatched(cst(11, 5, 9), cst(11, 6, 9)),))
    at(cst(12, 5, 9))
    by_dept = _table(runtime, group="department")
    rows = {r["key"]: r for r in by_dept["rows"]}
    # the receiving department made no dispatch: no 派遣准确率 of its own (it read 50 % before)
    assert rows["sanitation"]["dispatches"] == 0
    assert rows["sanitation"]["dispatch_accuracy_rate"] is None
    t = by_dept["total"]
    assert (t["dispatches"], t["wrong_dispatches"], str(t["dispatch_accuracy_rate"])) == (
        3, 1, "66.67")
    by_dispatcher = {r["key"]: r for r in _table(runtime, group="dispatcher")["rows"]}
    assert by_dispatcher[str(sup)]["dispatches"] == 2
    assert by_dispatcher[str(sup)]["dispatch_accuracy_rate"] == 50.0
    assert by_dispatcher[None]["name"] == "（系统自动派遣）"
    assert by_dispatcher[None]["dispatch_accuracy_rate"] == 100.0


def test_the_composite_score_treats_missing_rates_as_the_city_sets(runtime, cells, engine, at):
    w = user_id(engine, "worker")
    put_case(engine, cells["cell"], received=cst(11, 2, 9), accepted=cst(11, 2, 9, 10),
             status="closed", reporter=w, department="sanitation", events=(
                 dispatched(cst(11, 2, 9, 20), cst(11, 3, 9, 20)), resolved(cst(11, 2, 11)),
                 verified(cst(11, 2, 13))))
    at(cst(12, 5, 9))
    weights = (("closure_rate", 1.0), ("report_in_rate", 1.0))  # 报到率: no whistle, "—"
    scores = {}
    for missing in ("exclude", "zero", "full"):
        s = dataclasses.replace(runtime.settings, indicator_weights=weights,
                                indicator_missing=missing)
        t = _table(runtime, s)["total"]
        scores[missing] = (str(t["composite_score"]), t["composite_rates"])
    # one of the two weighted rates has a value: the score rests on it alone, on it and a 0,
    # or on it and full marks
    assert scores == {"exclude": ("100.00", 1), "zero": ("50.00", 1), "full": ("100.00", 1)}
