"""A closed month's indicator facts, kept once (stats.keep_closed_months): its tables read them
instead of folding the month's trail, and give exactly the figures the trail gives, in every
grouping and scope; the report's own attributes stay live; only months closed for good."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from gridsnap.cli import main as cli
from gridsnap.errors import AppError
from gridsnap.stats import jobs, queries, rules, service
from gridsnap.stats.rules import GROUPS
from gridsnap.users.rules import Principal
from gridsnap.worker import PERIODIC, build_followup
from test_indicators_governance import august

from evaluation_samples import bulletin_month, cst, dispatched, put_case, user_id

ADMIN = Principal(id=0, username="t", display_name="t", role="admin", scopes=("",))
SUPERVISOR = Principal(id=0, username="s", display_name="s", role="supervisor",
                       scopes=("110101001",))
# every grouping, for the whole city, a street supervisor, an area and a source
VIEWS = ([(ADMIN, group, {}) for group in GROUPS]
         + [(SUPERVISOR, group, {}) for group in ("community", "department", "category")]
         + [(ADMIN, "street", {"area": "110101001"}), (ADMIN, "district", {"source": "worker"}),
            (ADMIN, "department", {"source": "hotline"})])


def _tables(runtime, month: str) -> list[dict]:
    out = []
    with runtime.sessions() as s:
        for who, group, kw in VIEWS:
            out.append(service.indicator_table(s, who, runtime.settings, period=month,
                                               group=group, **kw))
            s.rollback()
    return out


def _keep(runtime, month: str) -> list[dict]:
    with runtime.sessions() as s, s.begin():
        return service.keep_closed_months(s, runtime.settings, months=[month], limit=None)


def _is_kept(runtime, month: str) -> bool:
    with runtime.sessions() as s:
        p = service.period_of(runtime.settings, period=month)
        return queries.kept_period(s, p.start, p.end)


def _hotline_month(engine, cells) -> None:
    """November 2026: hotline requests with contacts, callbacks, an exclusion and a repeat."""
    w = user_id(engine, "worker")
    c = cells["cell"]
    cb = ("case.callback_recorded", cst(11, 20, 10),
          {"reached": True, "responded": True, "solved": True, "satisfaction": "satisfied"},
          None, w)
    for day, extra in ((3, (cb,)), (4, (("case.excluded", cst(11, 21), {}, None),)),
                       (5, (("case.contacted", cst(11, 5, 11),
                             {"outcome": "reached", "in_time": True}, "sanitation"), cb)),
                       (6, ())):
        put_case(engine, c, received=cst(11, day, 9), accepted=cst(11, day, 9, 5),
                 status="dispatched", reporter=w, department="sanitation", source="hotline",
                 events=(dispatched(cst(11, day, 10), cst(11, day + 3, 10)), *extra))


@pytest.mark.parametrize("month, build, now", [
    ("2026-11", "november", cst(12, 3, 9)),
    ("2026-08", "august", cst(9, 5, 9)),
    ("2026-11", "hotline", cst(12, 3, 9)),
    ("2026-10", "bulletin", cst(11, 2, 9)),
])
def test_a_kept_month_gives_the_figures_of_its_trail_in_every_view(
        request, runtime, engine, cells, at, month, build, now):
    if build == "november":
        request.getfixturevalue("november")
    elif build == "august":
        august(engine, cells)
    elif build == "hotline":
        _hotline_month(engine, cells)
    else:
        bulletin_month(engine, cells["cell"], year=2026, month=10,
                       reporter=user_id(engine, "worker"), accepted=40, due=30, closed=24,
                       on_time=18)
    at(now)
    live = _tables(runtime, month)
    assert live[0]["total"]["accepted"] > 0  # the month has cases: the comparison says something
    assert not _is_kept(runtime, month)
    done = _keep(runtime, month)
    assert [d["period"] for d in done] == [month] and done[0]["cases"] > 0
    assert _is_kept(runtime, month)
    kept = _tables(runtime, month)
    for (who, group, kw), a, b in zip(VIEWS, live, kept, strict=True):
        assert json.dumps(b, default=str, sort_keys=True) == json.dumps(
            a, default=str, sort_keys=True), (who.role, group, kw)


def test_the_table_reads_the_kept_facts_and_the_reports_own_attributes(
        runtime, engine, cells, november, at):
    at(cst(12, 3, 9))
    _keep(runtime, "2026-11")
    before = _tables(runtime, "2026-11")[0]["total"]
    a = november["A"]
    # an event stamped inside the closed month after it was kept (no clock of the application
    # does that): the kept facts do not see it, the trail does
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO case_events (report_id, at, action, data) "
                          "VALUES (:r, :at, 'case.reopened', '{}')"),
                     {"r": a, "at": cst(11, 29, 12)})
    with runtime.sessions() as s:
        kept = service.indicator_table(s, ADMIN, runtime.settings, period="2026-11")["total"]
    assert kept["reworked"] == before["reworked"]
    # the worker's next run sees the month's trail changed (an import of history): it forgets
    # the month and keeps it again, with the event
    with runtime.sessions() as s, s.begin():
        again = service.keep_closed_months(s, runtime.settings, limit=None)
    assert "2026-11" in [d["period"] for d in again]
    with runtime.sessions() as s:
        rekept = service.indicator_table(s, ADMIN, runtime.settings, period="2026-11")["total"]
    assert rekept["reworked"] == before["reworked"] + 1
    with runtime.sessions() as s, s.begin():
        assert service.keep_closed_months(s, runtime.settings, limit=None) == []
    # a report recategorized after the month was kept counts under its new category
    _keep(runtime, "2026-11")
    with engine.begin() as conn:
        conn.execute(text("UPDATE reports SET category_code = 'E0101' WHERE id = :r"), {"r": a})
    with runtime.sessions() as s:
        rows = service.indicator_table(s, ADMIN, runtime.settings, period="2026-11",
                                       group="category")["rows"]
    assert {r["key"]: r["accepted"] for r in rows}.get("E0101") == 1


def test_only_months_closed_for_good_are_kept_newest_first(runtime, engine, cells, at):
    w = user_id(engine, "worker")
    for month in (9, 10, 11):
        put_case(engine, cells["cell"], received=cst(month, 10, 9),
                 accepted=cst(month, 10, 9, 5), status="dispatched", reporter=w,
                 department="sanitation",
                 events=(dispatched(cst(month, 10, 10), cst(month, 13, 10)),))
    # 00:30 on 1 December: November closed half an hour ago, not yet for good
    at(cst(12, 1, 0, 30))
    assert [p.label for p in rules.months_to_keep(cst(12, 1, 0, 30), "Asia/Shanghai")][:2] == [
        "2026-10", "2026-09"]
    with pytest.raises(AppError) as err:
        _keep(runtime, "2026-11")
    assert err.value.code == "request.invalid"
    # the worker's periodic task: one month a run, the newest first
    assert jobs.KEEP_MONTHS in [task for task, _, _ in PERIODIC]
    followup = build_followup(runtime)
    assert followup.run_task(jobs.KEEP_MONTHS) == 1
    assert _is_kept(runtime, "2026-10") and not _is_kept(runtime, "2026-09")
    at(cst(12, 1, 2))
    assert followup.run_task(jobs.KEEP_MONTHS) == 1
    assert _is_kept(runtime, "2026-11")
    assert followup.run_task(jobs.KEEP_MONTHS) == 1  # then September
    assert _is_kept(runtime, "2026-09")
    assert len(rules.months_to_keep(cst(12, 1, 2), "Asia/Shanghai")) == rules.KEEP_MONTHS_BACK


def test_the_command_keeps_and_forgets_months(runtime, engine, cells, at, monkeypatch):
    w = user_id(engine, "worker")
    put_case(engine, cells["cell"], received=cst(10, 10, 9), accepted=cst(10, 10, 9, 5),
             status="accepted", reporter=w)
    at(cst(12, 3, 9))
    for name in ("DATABASE_URL", "REDIS_URL"):
        monkeypatch.setenv(name, getattr(runtime.settings, name.lower()))
    runner = CliRunner()
    out = runner.invoke(cli, ["keep-indicators", "--month", "2026-10"])
    assert out.exit_code == 0, out.output
    assert "2026-10: kept the facts of 1 reports" in out.output
    assert _is_kept(runtime, "2026-10")
    out = runner.invoke(cli, ["keep-indicators", "--month", "2026-10"])
    assert "nothing to keep" in out.output
    out = runner.invoke(cli, ["keep-indicators", "--month", "2026-12"])
    assert out.exit_code == 1 and "not closed for good yet" in out.output
    out = runner.invoke(cli, ["keep-indicators", "--forget", "--month", "2026-10"])
    assert out.exit_code == 0 and "2026-10: forgotten" in out.output
    assert not _is_kept(runtime, "2026-10")
