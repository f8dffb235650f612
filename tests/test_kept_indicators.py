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


def _build(request, engine, cells, build: str) -> None:
    """One of the hand-worked months."""
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


@pytest.mark.parametrize("month, build, now", [
    ("2026-11", "november", cst(12, 3, 9)),
    ("2026-08", "august", cst(9, 5, 9)),
    ("2026-11", "hotline", cst(12, 3, 9)),
    ("2026-10", "bulletin", cst(11, 2, 9)),
])
def test_a_kept_month_gives_the_figures_of_its_trail_in_every_view(
        request, runtime, engine, cells, at, month, build, now):
    _build(request, engine, cells, build)
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
    assert "2026-10: kept the facts of 1 reports and added them up" in out.output
    assert _is_kept(runtime, "2026-10")
    out = runner.invoke(cli, ["keep-indicators", "--month", "2026-10"])
    assert "nothing to keep" in out.output
    out = runner.invoke(cli, ["keep-indicators", "--month", "2026-12"])
    assert out.exit_code == 1 and "not closed for good yet" in out.output
    out = runner.invoke(cli, ["keep-indicators", "--forget", "--month", "2026-10"])
    assert out.exit_code == 0 and "2026-10: forgotten" in out.output
    assert not _is_kept(runtime, "2026-10")


# --- a year, or a range of months: its months added up ---------------------------------------

SUMMED = ("2026-08", "2026-09", "2026-10", "2026-11")


def _added(tables: list[dict]) -> dict:
    """{key: counts} of several months' tables added up by hand (the total under "total")."""
    out: dict = {}
    for t in tables:
        for row in [*t["rows"], {**t["total"], "key": "total"}]:
            into = out.setdefault(row["key"], {})
            for k in rules.COUNT_KEYS:
                into[k] = into.get(k, 0) + row[k]
    return out


def _months_tables(runtime, label: str, months=SUMMED, settings=None) -> list[tuple]:
    """Per view: the table of the range and the tables of its months."""
    out = []
    with runtime.sessions() as s:
        for who, group, kw in VIEWS:
            whole = service.indicator_table(s, who, settings or runtime.settings, period=label,
                                            group=group, **kw)
            parts = [service.indicator_table(s, who, settings or runtime.settings, period=m,
                                             group=group, **kw) for m in months]
            s.rollback()
            out.append(((who.role, group, kw), whole, parts))
    return out


def _four_months(engine, cells) -> None:
    august(engine, cells)
    bulletin_month(engine, cells["cell"], year=2026, month=10,
                   reporter=user_id(engine, "worker"), accepted=40, due=30, closed=24,
                   on_time=18)
    _hotline_month(engine, cells)


def test_a_range_of_months_adds_up_its_months_in_every_view(runtime, engine, cells, at):
    _four_months(engine, cells)
    at(cst(12, 3, 9))
    # August and October kept (added up from their sums for the whole city), September and
    # November not (counted month by month): the same figures either way
    for m in ("2026-08", "2026-10"):
        _keep(runtime, m)
    for every_month_kept in (False, True):
        for view, whole, parts in _months_tables(runtime, "2026-08..2026-11"):
            view = (*view, every_month_kept)
            assert whole["period"]["months"] == list(SUMMED), view
            by_key = {r["key"]: r for r in whole["rows"]}
            expected = _added(parts)
            assert expected["total"]["accepted"] > 0 or view[0] != "admin", view
            for key, counts in expected.items():
                row = whole["total"] if key == "total" else by_key[key]
                assert {k: row[k] for k in rules.COUNT_KEYS} == counts, (view, key)
            assert set(by_key) == set(expected) - {"total"}, view
            # rates from the added counts; a median does not add up
            total = whole["total"]
            assert total["closure_rate"] == rules.percent(total["closed"], total["due"])
            assert total["median_accept_hours"] is None, view
        with runtime.sessions() as s, s.begin():
            service.keep_closed_months(s, runtime.settings, limit=None)


def test_a_year_reads_the_kept_sums_under_the_settings_in_force(runtime, engine, cells, at):
    _four_months(engine, cells)
    at(cst(12, 3, 9))
    with runtime.sessions() as s, s.begin():
        done = service.keep_closed_months(s, runtime.settings, limit=None)
    assert {"2026-08", "2026-10", "2026-11"} <= {d["period"] for d in done}

    def year(settings=None, **kw) -> dict:
        with runtime.sessions() as s:
            return service.indicator_table(s, ADMIN, settings or runtime.settings,
                                           period="2026", group="department", **kw)

    before = year()
    assert before["period"]["months"] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert before["total"]["accepted"] > 40
    # the whole city's year is added up from the kept sums: a sum written into them shows
    with engine.begin() as conn:
        n = conn.execute(text("UPDATE indicator_sums SET accepted = accepted + 1000 "
                              "WHERE shape = 'department' AND source = 'hotline'")).rowcount
    assert n > 0
    assert year()["total"]["accepted"] == before["total"]["accepted"] + 1000 * n
    # a street supervisor's year is counted month by month (their own reports count too)
    with runtime.sessions() as s:
        scoped = service.indicator_table(s, SUPERVISOR, runtime.settings, period="2026",
                                         group="department")
        their_months = [service.indicator_table(s, SUPERVISOR, runtime.settings,
                                                period=f"2026-{m:02d}", group="department")
                        for m in range(1, 13)]
    assert scoped["total"]["accepted"] > 0
    assert {k: scoped["total"][k] for k in rules.COUNT_KEYS} == _added(their_months)["total"]
    # other settings for 应结案: the sums kept under the old ones are not read, the months'
    # tables are; the worker adds them up again under the new ones
    import dataclasses
    stay = dataclasses.replace(runtime.settings, suspended_leave_due=False)
    other = year(settings=stay)
    months = _added(_one_view_months(runtime, stay))
    assert months["total"] != _added(_one_view_months(runtime, runtime.settings))["total"]
    assert {k: other["total"][k] for k in rules.COUNT_KEYS} == months["total"]
    with runtime.sessions() as s, s.begin():
        again = service.keep_closed_months(s, stay, limit=None)
    assert {d["period"] for d in again} >= {"2026-08", "2026-10", "2026-11"}
    assert all(d["cases"] is None for d in again)  # the facts stay; only the sums are new
    assert {k: year(settings=stay)["total"][k] for k in rules.COUNT_KEYS} == months["total"]


def _one_view_months(runtime, settings) -> list[dict]:
    with runtime.sessions() as s:
        return [service.indicator_table(s, ADMIN, settings, period=f"2026-{m:02d}",
                                        group="department") for m in range(1, 13)]


@pytest.mark.parametrize("period, ok", [
    ("2026", True), ("2025-12..2026-11", True), ("2026-11..2026-11", True),
    ("2026-11..2026-01", False), ("2025-01..2026-01", False), ("2026-13", False),
    ("2026-1..2026-02", False), ("20261", False),
])
def test_the_api_takes_a_year_or_a_range_of_months(client, tokens, at, period, ok):
    at(cst(12, 3, 9))
    r = client.get("/api/v1/stats/indicators", query_string={"period": period,
                                                              "group": "district"},
                   headers={"Authorization": f"Bearer {tokens['admin']}"})
    if ok:
        assert r.status_code == 200, r.get_json()
        got = r.get_json()["period"]
        assert got["label"] == period
        assert got["months"][0] == (period + "-01" if len(period) == 4 else period[:7])
        assert got["months"][-1] == (period + "-12" if len(period) == 4 else period[-7:])
    else:
        assert r.status_code in (400, 422), r.get_json()
        body = r.get_json()
        assert "period" in json.dumps(body), body


# --- the current month, kept to a watermark ----------------------------------------------------

def _last_day(month: str) -> int:
    p = rules.month_period(month, "Asia/Shanghai")
    return p.last_day.day


@pytest.mark.parametrize("month, build", [
    ("2026-11", "november"), ("2026-08", "august"), ("2026-11", "hotline"),
    ("2026-10", "bulletin"),
])
def test_the_current_month_kept_to_a_watermark_gives_the_figures_of_its_trail(
        request, runtime, engine, cells, at, month, build):
    """The month is kept while it runs, its watermark moved on three times and then to its
    end; at each later instant its tables (the kept facts, and the trail since folded for the
    reports it touched, deadlines passing in between) are the trail's, in every view."""
    _build(request, engine, cells, build)
    m = int(month[5:])
    keeps = [cst(m, 8, 9), cst(m, 18, 9), cst(m, 26, 9)]
    reads = [cst(m, 12, 15), cst(m, 23, 15), cst(m, _last_day(month), 22)]
    closed = cst(m + 1, 3, 9)
    folded = {}
    for when in [*reads, closed]:
        at(when)
        folded[when] = _tables(runtime, month)
    assert folded[closed][0]["total"]["accepted"] > 0
    for keep, read in zip(keeps, reads, strict=True):
        at(keep)
        with runtime.sessions() as s, s.begin():
            done = service.keep_current_month(s, runtime.settings)
        assert done and done["period"] == month
        with runtime.sessions() as s:
            p = service.period_of(runtime.settings, period=month)
            assert queries.kept_to(s, p.start, p.end) == keep - rules.KEEP_LAG
        at(read)
        running = _tables(runtime, month)
        for (who, group, kw), a, b in zip(VIEWS, folded[read], running, strict=True):
            assert json.dumps(b, default=str, sort_keys=True) == json.dumps(
                a, default=str, sort_keys=True), (read, who.role, group, kw)
    # closed for good: the worker moves the watermark to its end (and adds it up)
    at(closed)
    with runtime.sessions() as s, s.begin():
        done = service.keep_closed_months(s, runtime.settings, months=[month])
    assert [d["period"] for d in done] == [month]
    assert _is_kept(runtime, month)
    for (who, group, kw), a, b in zip(VIEWS, folded[closed], _tables(runtime, month),
                                      strict=True):
        assert json.dumps(b, default=str, sort_keys=True) == json.dumps(
            a, default=str, sort_keys=True), ("closed", who.role, group, kw)


def test_a_report_written_after_the_watermark_counts_at_once(runtime, engine, cells, at):
    w = user_id(engine, "worker")
    put_case(engine, cells["cell"], received=cst(11, 10, 9), accepted=cst(11, 10, 9, 5),
             status="dispatched", reporter=w, department="sanitation",
             events=(dispatched(cst(11, 10, 10), cst(11, 13, 10)),))
    at(cst(11, 11, 9))
    with runtime.sessions() as s, s.begin():
        assert service.keep_current_month(s, runtime.settings)["cases"] == 1

    def total() -> dict:
        with runtime.sessions() as s:
            return service.indicator_table(s, ADMIN, runtime.settings)["total"]

    assert total()["accepted"] == 1 and total()["overdue"] == 0
    # its handling deadline (13 Nov) passes with no event: late at a later cutoff
    at(cst(11, 14, 9))
    assert total()["overdue"] == 1 and total()["due"] == 1
    # a new report after the watermark, before the worker's next run
    put_case(engine, cells["cell"], received=cst(11, 14, 8), accepted=cst(11, 14, 8, 5),
             status="accepted", reporter=w)
    assert total()["accepted"] == 2
    # history written into the month before the watermark (an import): counted at once too
    put_case(engine, cells["cell"], received=cst(11, 5, 9), accepted=cst(11, 5, 9, 5),
             status="dispatched", reporter=w, department="sanitation",
             events=(dispatched(cst(11, 5, 10), cst(11, 6, 10)),))
    assert total()["accepted"] == 3 and total()["overdue"] == 2
    with runtime.sessions() as s, s.begin():
        moved = service.keep_current_month(s, runtime.settings)
    assert moved["cases"] == 2  # only the reports touched since are folded again
    assert total()["accepted"] == 3 and total()["overdue"] == 2


def test_a_report_recategorized_after_its_month_was_added_up(runtime, engine, cells, november,
                                                            at):
    """Its month's sums are read no more (a trigger marks them stale) until the worker adds
    the month up again: the month's and the year's tables count it under its new category at
    once."""
    at(cst(12, 3, 9))
    _keep(runtime, "2026-11")
    p = service.period_of(runtime.settings, period="2026-11")
    rule = rules.sums_rule(runtime.settings.suspended_leave_due,
                           runtime.settings.on_time_stages)

    def by_category(period: str) -> dict:
        with runtime.sessions() as s:
            rows = service.indicator_table(s, ADMIN, runtime.settings, period=period,
                                           group="category")["rows"]
        return {r["key"]: r["accepted"] for r in rows}

    def summed() -> bool:
        with runtime.sessions() as s:
            return queries.kept_sums(s, p.start, p.end, rule)

    assert summed() and "E0101" not in by_category("2026-11")
    with engine.begin() as conn:
        conn.execute(text("UPDATE reports SET category_code = 'E0101' WHERE id = :r"),
                     {"r": november["A"]})
    assert not summed()
    assert by_category("2026-11")["E0101"] == 1 and by_category("2026")["E0101"] == 1
    with runtime.sessions() as s, s.begin():
        again = service.keep_closed_months(s, runtime.settings, months=["2026-11"])
    assert [d["cases"] for d in again] == [None]  # the facts stay, the sums are new
    assert summed() and by_category("2026")["E0101"] == 1
    # a report's ordinary change (its status) leaves the sums as they are
    with engine.begin() as conn:
        conn.execute(text("UPDATE reports SET status = status WHERE id = :r"),
                     {"r": november["A"]})
    assert summed()
