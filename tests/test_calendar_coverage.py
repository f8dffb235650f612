"""Calendar coverage: a deadline counted over a year without the State Council's holiday notice
is flagged as an estimate; /health and GET /calendar warn; a holidays file adds a year; and
`gridsnap deadlines recompute` counts the running deadlines again on it."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from cases_helpers import act, case, submit
from gridsnap.cases import sweeps
from gridsnap.cases.sweeps import escalate_overdue
from gridsnap.cli import main as cli
from gridsnap.deadlines.rules import (
    HolidaysFileError,
    TimeLimit,
    WorkCalendar,
    calendar_coverage,
    due_at,
    guessed_years,
    parse_holidays,
)
from gridsnap.deadlines.service import holidays_data, load_holidays_file
from hotline_helpers import call_body, take_call

from conftest import auth
from followup import drain

CST = timezone(timedelta(hours=8))

# What the 2027 notice might say (the real one is not out): National Day and Mid-Autumn
# off from 1 to 7 October, Sunday 26 September and Saturday 9 October worked.
NOTICE_2027 = {"2027": {"notice": "国办发明电〔2026〕（测试）",
                        "休": ["2027-01-01", "2027-10-01/2027-10-07"],
                        "班": ["2027-09-26", "2027-10-09"]}}


def recompute_deadlines(session, settings, **kw) -> list[dict]:
    """As `gridsnap deadlines recompute` runs it: each batch committed (a dry run's rolled back)."""
    changed = []
    for batch in sweeps.recompute_deadlines(session, settings, **kw):
        changed += batch
        if kw.get("dry_run"):
            session.rollback()
        else:
            session.commit()
    return changed


def _file(tmp_path, content=NOTICE_2027, name="holidays.json"):
    path = tmp_path / name
    path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    return str(path)


# --- the holidays file and the rule of the flag (pure) -----------------------------------------


def test_2027_has_no_notice_in_the_library_and_a_holidays_file_adds_it(tmp_path):
    cal = WorkCalendar()
    with_file = WorkCalendar(holidays=load_holidays_file(_file(tmp_path)))

    assert calendar_coverage(2026) and not calendar_coverage(2027)
    assert with_file.covers(2027) and with_file.holidays.source_of(2027) == "file"
    assert with_file.holidays.source_of(2026) == "library"
    # the guess works 4-7 October (Mon-Thu) and rests on the make-up Sunday; the notice not
    assert cal.is_working_day(date(2027, 10, 4)) and not with_file.is_working_day(date(2027, 10, 4))
    assert not cal.is_working_day(date(2027, 9, 26)) and with_file.is_working_day(date(2027, 9, 26))
    # statutory holidays stay off even when the file forgets them (Spring Festival here)
    assert not with_file.is_working_day(date(2027, 2, 8))


def test_a_deadline_is_an_estimate_only_when_it_is_counted_over_a_year_without_notice():
    cal = WorkCalendar()
    one_day = TimeLimit(1, "working_days")

    def years(start, limit):
        return guessed_years(start, due_at(start, limit, cal), limit, cal)

    assert years(datetime(2026, 12, 30, 10, tzinfo=CST), one_day) == ()  # due 31 Dec 2026
    assert years(datetime(2026, 12, 31, 10, tzinfo=CST), one_day) == (2027,)  # due 4 Jan 2027
    # natural hours read no calendar: never an estimate, even into 2027
    assert years(datetime(2026, 12, 31, 23, tzinfo=CST), TimeLimit(4, "hours")) == ()


@pytest.mark.parametrize(("content", "message"), [
    ([], "expected an object of years"),
    ({"27": {"notice": "x"}}, "27: a year from 2000 to 2199"),
    ({"2027": {"休": ["2027-10-04"]}}, "2027.notice: name the State Council notice"),
    ({"2027": {"notice": "x", "holidays": []}}, "unknown key 'holidays'"),
    ({"2027": {"notice": "x", "休": ["2027-10-32"]}}, r"2027.休\[0\]: '2027-10-32' is not a date"),
    ({"2027": {"notice": "x", "休": ["2026-10-01"]}}, "'2026-10-01' is not in 2027"),
    ({"2027": {"notice": "x", "休": ["2027-10-07/2027-10-01"]}}, "ends before it starts"),
    ({"2027": {"notice": "x", "休": ["2027-10-01", "2027-10-01"]}}, "2027-10-01 is given twice"),
    ({"2027": {"notice": "x", "班": ["2027-10-12"]}},
     "2027-10-12 is a Tuesday; a make-up working day"),
    ({"2027": {"notice": "x", "班": ["2027-10-02"]}}, "2027-10-02 is a statutory holiday"),
    ({"2027": {"notice": "x", "休": ["2027-09-26"], "班": ["2027-09-26"]}}, "both 休 and 班"),
    ({"2027": {"notice": "x", "休": ["2027-10-04"], "off": ["2027-10-05"]}}, "not both"),
])
def test_a_bad_holidays_file_is_refused_with_where_and_what(content, message):
    with pytest.raises(HolidaysFileError, match=message):
        parse_holidays(content, "h.json")


def test_an_unreadable_holidays_file_says_so(tmp_path):
    with pytest.raises(HolidaysFileError, match="cannot read it"):
        load_holidays_file(str(tmp_path / "missing.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(HolidaysFileError, match="not UTF-8 JSON"):
        load_holidays_file(str(bad))


def test_a_changed_holidays_file_is_read_again_and_a_broken_change_keeps_the_last_good(tmp_path):
    path = _file(tmp_path, {"2027": {"notice": "a", "休": ["2027-10-04"]}}, "reload.json")
    first = holidays_data(path)
    assert not WorkCalendar(holidays=first).is_working_day(date(2027, 10, 4))

    _file(tmp_path, NOTICE_2027 | {"2028": {"notice": "b", "休": ["2028-10-04"]}}, "reload.json")
    second = holidays_data(path)
    assert second is not first and sorted(second.file_years) == [2027, 2028]

    (tmp_path / "reload.json").write_text('{"2027": {"notice": "c", "班": ["2027-10-12"]}}',
                                          encoding="utf-8")
    assert holidays_data(path) is second


# --- the flag on the case ----------------------------------------------------------------------


def _dispatched(client, tokens, demo_cell, runtime, at, when, category="E0102"):
    at(when)
    cid = submit(client, tokens, demo_cell, runtime, category=category)
    act(client, tokens, "supervisor", cid, "accept")
    return cid, act(client, tokens, "supervisor", cid, "dispatch")


def test_a_deadline_in_2027_is_flagged_and_one_in_2026_is_not(client, tokens, demo_cell,
                                                              runtime, at):
    in_2026, c26 = _dispatched(client, tokens, demo_cell, runtime, at,
                               datetime(2026, 12, 30, 10, tzinfo=CST))
    in_2027, c27 = _dispatched(client, tokens, demo_cell, runtime, at,
                               datetime(2026, 12, 31, 10, tzinfo=CST))

    assert datetime.fromisoformat(c26["due_at"]) == datetime(2026, 12, 31, 10, tzinfo=CST)
    assert (c26["due_at_estimated"], c26["due_at_guessed_years"]) == (False, [])
    assert c26["due_at_estimated_reason"] is None
    assert datetime.fromisoformat(c27["due_at"]) == datetime(2027, 1, 4, 10, tzinfo=CST)
    assert (c27["due_at_estimated"], c27["due_at_guessed_years"]) == (True, [2027])
    assert "2027" in c27["due_at_estimated_reason"]
    # the list says it too, and the trail records the estimate with the deadline
    listed = {c["id"]: c for c in client.get(
        "/api/v1/cases", headers=auth(tokens["supervisor"])).get_json()}
    assert listed[in_2027]["due_at_estimated"] and not listed[in_2026]["due_at_estimated"]
    trail = client.get(f"/api/v1/cases/{in_2027}/events",
                       headers=auth(tokens["supervisor"])).get_json()
    assert trail[-1]["action"] == "case.dispatched"
    assert trail[-1]["data"]["guessed_years"] == [2027]


def test_a_limit_in_natural_hours_into_2027_is_not_an_estimate(client, tokens, demo_cell,
                                                               runtime, at):
    _, c = _dispatched(client, tokens, demo_cell, runtime, at,
                       datetime(2026, 12, 31, 22, tzinfo=CST), category="C0202")  # 4 hours
    assert datetime.fromisoformat(c["due_at"]).astimezone(CST) == datetime(2027, 1, 1, 2, tzinfo=CST)
    assert c["due_at_estimated"] is False


# --- /health and GET /calendar -----------------------------------------------------------------


def test_health_warns_when_a_running_deadline_falls_in_a_year_without_notice(
        client, tokens, demo_cell, runtime, at):
    at(datetime(2026, 3, 2, 10, tzinfo=CST))  # every limit from now ends in 2026; no cases
    quiet = client.get("/api/v1/health").get_json()
    assert quiet["checks"]["calendar"]["ok"] is True and quiet["warnings"] == []
    assert {"year": 2026, "official": True, "source": "library"} in \
        quiet["checks"]["calendar"]["years"]

    _dispatched(client, tokens, demo_cell, runtime, at, datetime(2026, 12, 31, 10, tzinfo=CST))
    at(datetime(2026, 3, 2, 10, tzinfo=CST))  # the same day: only the running deadline warns
    h = client.get("/api/v1/health").get_json()
    cal = h["checks"]["calendar"]
    assert cal["ok"] is False and cal["uncovered_in_use"] == [2027]
    assert cal["estimated_cases"] == 1
    assert cal["estimated"] == [{"year": 2027, "cases": 1}]
    assert h["warnings"] and "2027" in h["warnings"][0]
    assert h["status"] in ("ok", "degraded")  # a warning, not an outage
    assert client.get("/api/v1/calendar",
                      headers=auth(tokens["supervisor"])).get_json()["uncovered_in_use"] == [2027]
    assert client.get("/api/v1/calendar").status_code == 401


def test_health_warns_in_late_2026_when_the_longest_limit_reaches_2027(client, at):
    at(datetime(2026, 12, 20, 10, tzinfo=CST))  # 15 working days (复杂 hotline cases) → 2027
    cal = client.get("/api/v1/health").get_json()["checks"]["calendar"]
    assert cal["uncovered_in_use"] == [2027]
    assert datetime.fromisoformat(cal["longest_limit_due_at"]).year == 2027
    root = client.get("/api/v1").get_json()["calendar"]
    assert root["years"] == [{"year": 2026, "official": True}, {"year": 2027, "official": False}]


def _statements(monkeypatch) -> list[str]:
    """The statements psycopg is asked to run from now on (their text)."""
    import psycopg

    sent: list[str] = []
    original = psycopg.Cursor.execute

    def recording(cursor, query, *args, **kwargs):
        sent.append(str(query))
        return original(cursor, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", recording)
    return sent


def test_health_reads_the_calendar_facts_once_a_minute_and_probes_with_one_statement(
        client, tokens, demo_cell, runtime, engine, at, monkeypatch):
    """A load balancer probes every second: each probe is one statement (PostGIS and the
    outbox), and what the calendar's coverage reads of the cases is read again in the next
    minute — a change this process did not make (another API process, a worker) shows then."""
    at(datetime(2026, 3, 2, 10, 0, 5, tzinfo=CST))
    cid = submit(client, tokens, demo_cell, runtime)
    act(client, tokens, "supervisor", cid, "accept")
    assert client.get("/api/v1/health").get_json()["warnings"] == []

    # another process estimates the case's deadline over 2027 (no notice in the library)
    with engine.begin() as conn:
        conn.execute(text("UPDATE reports SET due_at = '2027-01-04T02:00:00Z', "
                          "due_at_guessed_years = '{2027}' WHERE id = :id"), {"id": cid})
    sent = _statements(monkeypatch)
    at(datetime(2026, 3, 2, 10, 0, 59, tzinfo=CST))
    same_minute = client.get("/api/v1/health").get_json()
    assert same_minute["status"] == "ok" and same_minute["warnings"] == []
    assert len(sent) == 1 and "outbox" in sent[0] and "reports" not in sent[0]

    at(datetime(2026, 3, 2, 10, 1, tzinfo=CST))
    next_minute = client.get("/api/v1/health").get_json()
    assert next_minute["checks"]["calendar"]["uncovered_in_use"] == [2027]
    assert next_minute["checks"]["calendar"]["estimated"] == [{"year": 2027, "cases": 1}]
    assert len(sent) == 2 and "reports" in sent[1]  # still one statement a probe


def test_health_reads_the_calendar_facts_again_on_a_new_day_and_when_the_clock_moves_back(
        client, tokens, demo_cell, runtime, engine, at):
    """The years in use turn with the local day; and a clock moved (the tests', or a
    corrected one) to another minute reads again, even to a minute read before."""
    at(datetime(2026, 6, 30, 23, 59, 30, tzinfo=CST))
    cid = submit(client, tokens, demo_cell, runtime)
    act(client, tokens, "supervisor", cid, "accept")
    before = client.get("/api/v1/health").get_json()["checks"]["calendar"]
    assert before["estimated_cases"] == 0
    with engine.begin() as conn:
        conn.execute(text("UPDATE reports SET due_at_guessed_years = '{2027}' WHERE id = :id"),
                     {"id": cid})
    at(datetime(2026, 7, 1, 0, 0, 1, tzinfo=CST))  # 31 s later, a new day in Shanghai
    assert client.get("/api/v1/health").get_json()["checks"]["calendar"]["estimated_cases"] == 1

    with engine.begin() as conn:
        conn.execute(text("UPDATE reports SET due_at_guessed_years = NULL WHERE id = :id"),
                     {"id": cid})
    at(datetime(2026, 6, 30, 23, 59, 30, tzinfo=CST))  # back to the first minute
    assert client.get("/api/v1/health").get_json()["checks"]["calendar"]["estimated_cases"] == 0


# --- recomputing after the notice is added -----------------------------------------------------


def _with_file(settings, tmp_path, content=NOTICE_2027):
    return dataclasses.replace(settings, holidays_file=_file(tmp_path, content))


def _row(engine, cid):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT due_at, due_at_guessed_years, overdue, overdue_at, escalation_level, version "
            "FROM reports WHERE id = :id"), {"id": cid}).mappings().one()


def _trail(client, tokens, cid):
    return client.get(f"/api/v1/cases/{cid}/events",
                      headers=auth(tokens["supervisor"])).get_json()


def test_recompute_moves_a_deadline_onto_the_added_notice_and_dry_run_changes_nothing(
        client, tokens, demo_cell, runtime, engine, settings, tmp_path, at):
    # Thu 30 Sep 2027 10:00 + 1 working day: the guess gives Mon 4 Oct, the notice Fri 8 Oct
    cid, c = _dispatched(client, tokens, demo_cell, runtime, at,
                         datetime(2027, 9, 30, 10, tzinfo=CST))
    assert datetime.fromisoformat(c["due_at"]) == datetime(2027, 10, 4, 10, tzinfo=CST)
    assert c["due_at_estimated"] is True
    on_notice = _with_file(settings, tmp_path)
    before, trail_before = _row(engine, cid), _trail(client, tokens, cid)

    with runtime.sessions() as s:
        planned = recompute_deadlines(s, on_notice, dry_run=True)
    assert [(str(p["id"]), p["due_at"]) for p in planned] == [
        (cid, datetime(2027, 10, 8, 10, tzinfo=CST))]
    assert _row(engine, cid) == before and _trail(client, tokens, cid) == trail_before

    with runtime.sessions() as s:
        done = recompute_deadlines(s, on_notice)
    assert len(done) == 1
    c = case(client, tokens, "supervisor", cid)
    assert datetime.fromisoformat(c["due_at"]) == datetime(2027, 10, 8, 10, tzinfo=CST)
    assert c["due_at_estimated"] is False and c["version"] == before["version"] + 1
    last = _trail(client, tokens, cid)[-1]
    assert last["action"] == "case.deadline_recomputed"
    assert last["data"]["stage"] == "handle"
    assert datetime.fromisoformat(last["data"]["old_due_at"]) == before["due_at"]
    assert datetime.fromisoformat(last["data"]["due_at"]) == datetime(2027, 10, 8, 10, tzinfo=CST)
    assert last["data"]["old_guessed_years"] == [2027] and "guessed_years" not in last["data"]
    # nothing left to do: a second run changes nothing
    with runtime.sessions() as s:
        assert recompute_deadlines(s, on_notice) == []


def test_recompute_clears_overdue_when_the_new_deadline_is_ahead_and_keeps_it_otherwise(
        client, tokens, demo_cell, runtime, engine, settings, tmp_path, at):
    # both marked overdue on Tue 5 Oct under the guess (due Mon 4 Oct)
    ahead, _ = _dispatched(client, tokens, demo_cell, runtime, at,
                           datetime(2027, 9, 30, 10, tzinfo=CST))  # notice: due Fri 8 Oct
    behind, _ = _dispatched(client, tokens, demo_cell, runtime, at,
                            datetime(2027, 9, 28, 10, tzinfo=CST))  # Wed 29 Sep either way
    with runtime.sessions() as s:
        assert escalate_overdue(s, now=datetime(2027, 10, 5, 9, tzinfo=CST)) == 2
        s.commit()
    marked_behind = _row(engine, behind)

    at(datetime(2027, 10, 6, 9, tzinfo=CST))
    with runtime.sessions() as s:
        done = recompute_deadlines(s, _with_file(settings, tmp_path), every=True)

    assert len(done) == 2
    a = case(client, tokens, "supervisor", ahead)
    assert (a["overdue"], a["overdue_at"], a["escalation_level"]) == (False, None, 1)
    assert _trail(client, tokens, ahead)[-1]["data"]["overdue_cleared"] is True
    # the other's deadline did not move, it is official now: still overdue since it was marked
    b = _row(engine, behind)
    assert (b["due_at"], b["overdue"], b["overdue_at"]) == (
        marked_behind["due_at"], True, marked_behind["overdue_at"])
    assert b["due_at_guessed_years"] is None and marked_behind["due_at_guessed_years"] == [2027]
    last = _trail(client, tokens, behind)[-1]
    assert last["action"] == "case.deadline_recomputed"
    assert last["data"]["overdue_cleared"] is False
    assert last["data"]["old_due_at"] == last["data"]["due_at"]


def test_recompute_marks_overdue_a_case_whose_new_deadline_has_passed(
        client, tokens, demo_cell, runtime, engine, settings, tmp_path, at):
    # Fri 24 Sep 2027 10:00 + 1 working day: the guess gives Mon 27 Sep, the notice makes
    # Sun 26 Sep a working day (班)
    cid, _ = _dispatched(client, tokens, demo_cell, runtime, at,
                         datetime(2027, 9, 24, 10, tzinfo=CST))
    at(datetime(2027, 9, 26, 12, tzinfo=CST))
    with runtime.sessions() as s:
        recompute_deadlines(s, _with_file(settings, tmp_path))
    c = case(client, tokens, "supervisor", cid)
    assert datetime.fromisoformat(c["due_at"]) == datetime(2027, 9, 26, 10, tzinfo=CST)
    assert c["overdue"] is True
    assert [e["action"] for e in _trail(client, tokens, cid)][-3:] == [
        "case.deadline_recomputed", "case.overdue", "case.escalated"]


def test_recompute_counts_an_approved_extension_again_from_the_new_deadline(
        client, tokens, demo_cell, runtime, settings, tmp_path, at):
    # Wed 29 Sep 10:00 + 1 working day = Thu 30 Sep; +2 working days (延期) from then: the
    # guess gives Tue 5 Oct, the notice Sat 9 Oct (a make-up working day)
    cid, _ = _dispatched(client, tokens, demo_cell, runtime, at,
                         datetime(2027, 9, 29, 10, tzinfo=CST))
    act(client, tokens, "handler", cid, "sign")
    at(datetime(2027, 9, 29, 11, tzinfo=CST))
    act(client, tokens, "handler", cid, "request_extension", note="需要更换设备",
        extension={"amount": 2, "unit": "working_days"})
    c = act(client, tokens, "supervisor", cid, "approve_extension")
    assert datetime.fromisoformat(c["due_at"]) == datetime(2027, 10, 5, 10, tzinfo=CST)
    assert c["due_at_estimated"] is True

    with runtime.sessions() as s:
        recompute_deadlines(s, _with_file(settings, tmp_path))
    c = case(client, tokens, "supervisor", cid)
    assert datetime.fromisoformat(c["due_at"]) == datetime(2027, 10, 9, 10, tzinfo=CST)
    assert c["due_at_estimated"] is False


def test_recompute_uses_the_hotline_limit_of_the_urgency(client, tokens, demo_cell, runtime,
                                                         settings, tmp_path, at, monkeypatch):
    from gridsnap.settings import parse_hotline_limits

    # a city that counts its hotline limits in working days (the default is calendar days)
    settings = dataclasses.replace(settings, hotline_time_limits=parse_hotline_limits(
        "emergency=2h,urgent=24h,ordinary=7wd,complex=15wd"))
    monkeypatch.setattr(runtime, "settings", settings)
    t0 = datetime(2027, 9, 30, 10, tzinfo=CST)
    at(t0)
    cid = take_call(client, tokens, call_body(  # ordinary: 7 working days, not the category's
        demo_cell, urgency="ordinary", called_at=(t0 - timedelta(minutes=5)).isoformat()))["id"]
    drain(runtime)
    act(client, tokens, "supervisor", cid, "accept")
    c = act(client, tokens, "supervisor", cid, "dispatch")
    guess = datetime.fromisoformat(c["due_at"])
    with runtime.sessions() as s:
        recompute_deadlines(s, _with_file(settings, tmp_path))
    c = case(client, tokens, "supervisor", cid)
    on_notice = WorkCalendar(holidays=load_holidays_file(_file(tmp_path)))
    assert datetime.fromisoformat(c["due_at"]) == due_at(
        datetime(2027, 9, 30, 10, tzinfo=CST), TimeLimit(7, "working_days"), on_notice)
    assert datetime.fromisoformat(c["due_at"]) > guess


def test_the_recompute_command_prints_what_changes_and_dry_run_writes_nothing(
        client, tokens, demo_cell, runtime, engine, settings, tmp_path, at, monkeypatch):
    cid, _ = _dispatched(client, tokens, demo_cell, runtime, at,
                         datetime(2027, 9, 30, 10, tzinfo=CST))
    number = case(client, tokens, "supervisor", cid)["number"]
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    monkeypatch.setenv("GRIDSNAP_HOLIDAYS_FILE", _file(tmp_path))
    before = _row(engine, cid)

    dry = CliRunner().invoke(cli, ["deadlines", "recompute", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"case {number} (handle): 2027-10-04 10:00 -> 2027-10-08 10:00  [now official]" \
        in dry.output
    assert "1 deadline(s) would change (dry run: nothing written)" in dry.output
    assert _row(engine, cid) == before

    real = CliRunner().invoke(cli, ["deadlines", "recompute"])
    assert real.exit_code == 0, real.output
    assert "1 deadline(s) changed" in real.output
    assert _row(engine, cid)["due_at"] == datetime(2027, 10, 8, 2, tzinfo=UTC)

    monkeypatch.setenv("GRIDSNAP_HOLIDAYS_FILE", _file(tmp_path, {"2027": {"notice": ""}},
                                                       "broken.json"))
    broken = CliRunner().invoke(cli, ["deadlines", "recompute"])
    assert broken.exit_code == 1 and "2027.notice" in broken.output


def test_the_status_command_lists_the_years_and_warns(client, tokens, demo_cell, runtime,
                                                      settings, tmp_path, at, monkeypatch):
    _dispatched(client, tokens, demo_cell, runtime, at, datetime(2026, 12, 31, 10, tzinfo=CST))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)

    out = CliRunner().invoke(cli, ["deadlines", "status"])
    assert out.exit_code == 0, out.output
    assert "2026: holidays library" in out.output
    assert "2027: ESTIMATED (statutory holidays only)" in out.output
    assert "estimated running deadlines due in 2027: 1" in out.output
    assert "warning: No official holiday data (the State Council's notice) for 2027" in out.output

    # the served stack's settings file says where the holidays file is: the command reads it
    # too (it said 2027 was estimated while the server knew better)
    env_file = tmp_path / "env"
    env_file.write_text(f"# the stack's settings\nGRIDSNAP_HOLIDAYS_FILE={_file(tmp_path)}\n",
                        encoding="utf-8")
    monkeypatch.setenv("GRIDSNAP_ENV_FILE", str(env_file))
    monkeypatch.setenv("GRIDSNAP_HOLIDAYS_FILE", "")
    monkeypatch.delenv("GRIDSNAP_HOLIDAYS_FILE")
    out = CliRunner().invoke(cli, ["deadlines", "status"])
    assert "2027: holidays file" in out.output, out.output
    monkeypatch.setenv("GRIDSNAP_HOLIDAYS_FILE", _file(tmp_path))
    out = CliRunner().invoke(cli, ["deadlines", "status"])
    assert "2027: holidays file" in out.output
    assert "which now has official holiday data: run `gridsnap deadlines recompute`" in out.output


def test_the_coverage_health_keeps_follows_a_changed_holidays_file_at_once(
        runtime, settings, tmp_path):
    """/health keeps the coverage it counted (a probe every second), but a holidays file
    changed on disk shows in the very next answer, the same minute."""
    from sqlalchemy.orm import Session

    from gridsnap.health import service as health_service

    now = datetime(2026, 12, 20, 10, 0, 5, tzinfo=CST)  # the longest limit reaches 2027
    path = tmp_path / "holidays.json"
    path.write_text(json.dumps(NOTICE_2027, ensure_ascii=False), encoding="utf-8")
    with_file = dataclasses.replace(settings, holidays_file=str(path))
    with Session(runtime.engine) as session:
        first = health_service.calendar_coverage(session, with_file, now)
        assert first["uncovered_in_use"] == [] and first["holidays_file"]["years"] == [2027]
        # another year's notice instead (a different size: read again)
        path.write_text(json.dumps({"2029": {"notice": "测试", "休": ["2029-01-01"], "班": []}},
                                   ensure_ascii=False), encoding="utf-8")
        then = health_service.calendar_coverage(session, with_file, now + timedelta(seconds=1))
    assert then["uncovered_in_use"] == [2027] and then["holidays_file"]["years"] == [2029]
    assert then["warnings"] and "2027" in then["warnings"][0]
