"""Use cases of the evaluation (综合评价): the indicator table of a period, 每月一题."""

from __future__ import annotations

import csv
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from .. import clock
from ..errors import AppError
from ..grid.rules import AREA_LEVELS, area_chain
from ..settings import Settings
from ..users.rules import Principal
from . import queries, rules

log = logging.getLogger(__name__)


def period_of(settings: Settings, *, period: str | None = None, first: date | None = None,
              last: date | None = None, months: bool = False) -> rules.Period:
    """The period a request names (this month by default); AppError request.invalid if the
    request names none that can be read. months: a year or a range of months too."""
    try:
        return rules.resolve_period(period=period, first=first, last=last,
                                    tz=settings.timezone, now=clock.now(), months=months)
    except rules.PeriodError as exc:
        raise AppError("request.invalid", str(exc), {exc.field: [str(exc)]}) from None


def weights_in_force(settings: Settings) -> tuple[tuple[str, float], ...]:
    """The 综合指标值's weights: GRIDSNAP_INDICATOR_WEIGHTS, or the documented defaults."""
    return rules.weights_of(settings.indicator_weights)  # checked when the app starts


def _merge_participation(counts: list[dict], extra: list[dict],
                         keys: tuple[str, ...] = queries.PARTICIPATION_KEYS) -> list[dict]:
    """The counts of another pass (报到/督办, dispatches) added to the rows of the same key
    (and total); a key only they have (a department summoned to cases of other periods, a
    dispatcher) gets a row of its own."""
    by_key = {(c["is_total"], c["key"]): c for c in counts}
    for e in extra:
        row = by_key.get((e["is_total"], e["key"]))
        if row is None:
            row = {"key": e["key"], "is_total": e["is_total"]}
            by_key[(e["is_total"], e["key"])] = row
            counts.append(row)
        for k in keys:
            row[k] = int(e.get(k) or 0)
    return counts


def _period_view(p: rules.Period, cutoff) -> dict:
    return {"label": p.label, "from": p.first_day, "to": p.last_day, "start": p.start,
            "end": p.end, "cutoff": cutoff, "months": list(p.months) or None}


def _rule(settings: Settings) -> str:
    return rules.sums_rule(settings.suspended_leave_due, settings.on_time_stages)


def _period_counts(session: Session, principal: Principal, settings: Settings, *,
                   group: str, start, end, cutoff, area: str | None,
                   source: str | None) -> list[dict]:
    """The counts of one period's table (indicator_counts, 报到/督办, dispatches) per group key
    and in total: from its kept facts if kept (to its end, or to a watermark before the
    cutoff: the trail since folded for the reports it touched), else folded from its trail."""
    row = queries.kept_row(session, start, end)
    kept = row is not None and row["kept_to"] <= cutoff
    if (kept and row["kept_to"] == cutoff and not area and not source
            and queries.sums_serve(principal, group, None)
            and queries.kept_sums(session, start, cutoff, _rule(settings))):
        # a closed month for the whole city: its sums and medians, kept with it
        counts = _summed_counts(session, principal, settings, group=group,
                                periods=[(start, cutoff)], area=None, source=None)
        medians = {(m["is_total"], m["key"]): m for m in queries.kept_medians(
            session, group=group, start=start, cutoff=cutoff)}
        for c in counts:
            m = medians.get((c["is_total"], c["key"]), {})
            c.update({k: m.get(k) for k in queries.MEDIAN_KEYS})
        return counts
    counts = queries.indicator_counts(
        session, principal, group=group, start=start, cutoff=cutoff, area_prefix=area,
        source=source, suspended_leave_due=settings.suspended_leave_due,
        on_time_stages=settings.on_time_stages, kept=row if kept else None)
    counts = _merge_participation(counts, queries.participation_counts(
        session, principal, group=group, start=start, cutoff=cutoff, area_prefix=area,
        source=source))
    if kept and group not in ("dispatcher", "handler"):
        # the kept facts carry each case's dispatches, grouped here by the report's own key
        # (the dispatcher's and the handler's groups are the dispatches' and the report's, not
        # the trail's: below); grouped by department a dispatch counts for no department (the
        # receiving department did not make it): only in the total
        if group == "department":
            _no_department_dispatches(counts)
        return counts
    # each dispatch charged to who made it: from the period's dispatches themselves
    for c in counts:
        for k in queries.DISPATCH_KEYS:
            c.pop(k, None)
    return _merge_participation(counts, queries.dispatch_counts(
        session, principal, group=group, start=start, cutoff=cutoff, area_prefix=area,
        source=source), queries.DISPATCH_KEYS)


def _summed_counts(session: Session, principal: Principal, settings: Settings, *,
                   group: str, periods: list[tuple], area: str | None,
                   source: str | None) -> list[dict]:
    """The counts of kept months added up from their sums (queries.summed_counts), with 报到
    and 督办 from their own pass month by month; no medians."""
    counts = queries.summed_counts(session, group=group, periods=periods, rule=_rule(settings),
                                   area_prefix=area, source=source)
    if group == "department":
        _no_department_dispatches(counts)
    return _added_up([counts] + [_merge_participation([], queries.participation_counts(
        session, principal, group=group, start=start, cutoff=cutoff, area_prefix=area,
        source=source)) for start, cutoff in periods])


def _no_department_dispatches(counts: list[dict]) -> None:
    for c in counts:
        if not c["is_total"]:
            c.update(dict.fromkeys(queries.DISPATCH_KEYS, 0))


def _months_counts(session: Session, principal: Principal, settings: Settings,
                   p: rules.Period, *, group: str, cutoff, area: str | None,
                   source: str | None) -> list[dict]:
    """A year's or a range of months' counts: each month's, as its own table gives them (a
    month closed for good: as of its end), added up per group key. The months kept with their
    sums are added up from those (a few rows per cell, category and department a month, at any
    number of cases) when the reader sees the whole city; the others are counted month by
    month. No medians: a median does not add up."""
    now = clock.now()
    rule = _rule(settings)
    months = [rules.month_period(m, settings.timezone) for m in p.months]
    months = [m for m in months if m.start < cutoff]
    summed, counted = [], []
    serve = queries.sums_serve(principal, group, area)
    for m in months:
        mc = m.cutoff(now)
        if serve and mc == m.end and queries.kept_sums(session, m.start, mc, rule):
            summed.append((m.start, mc))
        else:
            counted.append((m, mc))
    parts = []
    if summed:
        parts.append(_summed_counts(session, principal, settings, group=group, periods=summed,
                                    area=area, source=source))
    for m, mc in counted:
        parts.append(_period_counts(session, principal, settings, group=group, start=m.start,
                                    end=m.end, cutoff=mc, area=area, source=source))
    return _added_up(parts)


def _added_up(parts: list[list[dict]]) -> list[dict]:
    """Count rows of several periods added up per (is_total, key); medians dropped."""
    out: dict[tuple, dict] = {}
    for rows in parts:
        for c in rows:
            row = out.setdefault((c["is_total"], c["key"]),
                                 {"key": c["key"], "is_total": c["is_total"]})
            for k, v in c.items():
                if k in ("key", "is_total") or k.startswith("median_"):
                    continue
                row[k] = row.get(k, 0) + int(v or 0)
    return list(out.values())


def indicator_table(session: Session, principal: Principal, settings: Settings, *,
                    group: str = "district", period: str | None = None,
                    first: date | None = None, last: date | None = None,
                    area: str | None = None, source: str | None = None) -> dict:
    """Every indicator per group (area level, department, category, kind, major class,
    source, reporter or handler) and for all of them, over the cases the principal may see,
    taken at the period's end (or now, if earlier). Stale statistics left by a bulk load are
    refreshed first (refresh_statistics) — in the background when the plan does not
    depend on them (the whole city: queries.needs_statistics); 报到 and 督办 come from their own
    pass, grouped by department for the summoned / noticed department.

    period: a month (YYYY-MM), a year (YYYY) or a range of months (YYYY-MM..YYYY-MM): a year
    or a range adds up its months as their own tables give them (_months_counts); from/to: a
    span of days, every case taken at its cutoff.

    Returns {"period", "group", "rows": [{key, name, areas, …indicators}], "total": {…}}.
    A month closed for good is read from its kept facts (keep_closed_months) rather than
    folded from its trail: the same figures.

    Raises AppError request.invalid for a period that cannot be read.
    """
    p = period_of(settings, period=period, first=first, last=last, months=True)
    cutoff = p.cutoff(clock.now())
    weights = weights_in_force(settings)
    # a narrower scope's plan needs fresh statistics: analyze first; the whole city's does not:
    # analyze after its query, in the background (not competing with it for the CPU)
    wait = queries.needs_statistics(principal, area, source)
    if wait:
        refresh_statistics(session)
    if p.months:
        counts = _months_counts(session, principal, settings, p, group=group, cutoff=cutoff,
                                area=area, source=source)
    else:
        counts = _period_counts(session, principal, settings, group=group, start=p.start,
                                end=p.end, cutoff=cutoff, area=area, source=source)
    if not wait:
        refresh_statistics(session, wait=False)
    keys = [c["key"] for c in counts if not c["is_total"] and c["key"] is not None]
    names = queries.names_of(session, group, keys)
    chains = {}
    if group in AREA_LEVELS:
        chains = {k: area_chain(k) for k in keys}
        codes = sorted({c for chain in chains.values() for c in chain.values() if c})
        area_names = queries.area_names(session, codes)
    rows, total = [], None
    for c in counts:
        row = rules.indicator_row(c, weights, settings.indicator_missing)
        if c["is_total"]:
            total = {"key": None, "name": "合计", "name_en": "Total", "areas": None, **row}
            continue
        key = c["key"]
        areas = None
        if group in AREA_LEVELS:
            areas = {level: None if code is None else {"code": code, **area_names.get(
                         code, {"name": None, "name_en": None})}
                     for level, code in (chains.get(key) or area_chain(None)).items()}
        named = names.get(key, {}) if key else {"name": rules.NO_KEY_NAME[group],
                                                 "name_en": rules.NO_KEY_NAME_EN[group]}
        rows.append({"key": key, "name": named.get("name"), "name_en": named.get("name_en"),
                     "areas": areas, **row})
    rows.sort(key=lambda r: (r["key"] is None, r["key"] or ""))
    if total is None:  # nothing visible in the period: a total of zeros
        total = {"key": None, "name": "合计", "name_en": "Total", "areas": None,
                 **rules.indicator_row({}, weights, settings.indicator_missing)}
    return {"period": _period_view(p, cutoff), "group": group, "area": area, "source": source,
            "rows": rows, "total": total}


def call_taker_table(session: Session, principal: Principal, settings: Settings, *,
                     period: str | None = None, first: date | None = None,
                     last: date | None = None, area: str | None = None) -> dict:
    """The hotline's own figures per call-taker (话务员) and in total, over the cases the
    principal may see: calls taken (受理数), consultations among them, callbacks made (回访次数:
    every try) and reached (接通数), 回访接通率, and 平均受理时长 — the mean time from the call's
    start to the request recorded (docs/indicators.md). Raises AppError request.invalid for a
    period that cannot be read."""
    p = period_of(settings, period=period, first=first, last=last)
    cutoff = p.cutoff(clock.now())
    counts = queries.call_taker_counts(session, principal, start=p.start, cutoff=cutoff,
                                       area_prefix=area,
                                       max_handling_s=rules.CALL_HANDLING_MAX_SECONDS)
    rows = [{"user": {"id": c["user_id"], "username": c["username"],
                      "display_name": c["display_name"], "role": c["role"]},
             **rules.call_taker_row(c)} for c in counts]
    total = {k: sum(c[k] for c in counts) for k in (*rules.CALL_TAKER_COUNTS, "handling_s")}
    return {"period": _period_view(p, cutoff), "area": area, "rows": rows,
            "total": rules.call_taker_row(total),
            "handling_max_seconds": rules.CALL_HANDLING_MAX_SECONDS}


def ranking_weights_in_force(settings: Settings) -> tuple[tuple[str, float], ...]:
    """The ranking's weights: GRIDSNAP_RANKING_WEIGHTS, or the documented defaults."""
    return rules.ranking_weights_of(settings.ranking_weights)  # checked when the app starts


def _ranked(table: dict, weights, missing: str) -> dict:
    """{key: (row, score, rates)} of a table's rows with a key, and their ranks by score."""
    rows = [r for r in table["rows"] if r["key"] is not None]
    scored = [(r, *rules.composite(r, weights, missing)) for r in rows]
    ranks = rules.ranks([s for _, s, _ in scored])
    return {r["key"]: {"row": r, "score": s, "rates": n, "rank": k}
            for (r, s, n), k in zip(scored, ranks, strict=True)}


def ranking(session: Session, principal: Principal, settings: Settings, *,
            group: str = "street", period: str | None = None,
            area: str | None = None) -> dict:
    """The monthly 考评 ranking (docs/indicators.md): per street (district, community) or
    department, the hotline's requests of the month, per 10,000 residents (area_populations)
    for an area, the three rates (三率, after 剔除 and 核减), their weighted score, the rank by
    that score (competition ranks: 1, 2, 2, 4; no score, no rank) and last month's rank and
    score, with the places gained. Over the cases the principal may see, like every table.
    Rows: ranked first by rank, then the unranked by key.

    Raises AppError request.invalid for a period that cannot be read."""
    p = period_of(settings, period=period)
    previous = p.shifted_months(-1, settings.timezone)
    weights = ranking_weights_in_force(settings)
    missing = settings.indicator_missing
    now_table = indicator_table(session, principal, settings, group=group, period=p.label,
                                area=area, source="hotline")
    before = _ranked(indicator_table(session, principal, settings, group=group,
                                     period=previous.label, area=area, source="hotline"),
                     weights, missing)
    current = _ranked(now_table, weights, missing)
    people = queries.populations(session, list(current)) if group in AREA_LEVELS else {}
    rows = []
    for key, c in current.items():
        r, last = c["row"], before.get(key) or {}
        population = people.get(key)
        rows.append({
            "key": key, "name": r["name"], "name_en": r["name_en"], "areas": r["areas"],
            "rank": c["rank"], "score": c["score"], "score_rates": c["rates"],
            "previous_rank": last.get("rank"), "previous_score": last.get("score"),
            "movement": rules.movement(c["rank"], last.get("rank")),
            "population": population,
            "requests_per_10k": rules.per_residents(r["requests"], population),
            **{k: r[k] for k in rules.RANKING_COUNTS + rules.RANKING_RATES}})
    rows.sort(key=lambda x: (x["rank"] is None, x["rank"] or 0, x["key"]))
    return {"period": now_table["period"], "previous_period": previous.label, "group": group,
            "area": area, "weights": [{"rate": k, "weight": w} for k, w in weights],
            "missing": missing, "rows": rows}


def import_populations(session: Session, path: str, *, source: str | None = None) -> dict:
    """Residents per area from a CSV file (UTF-8, a header row naming `code` and `population`,
    optionally `source`): every row checked first (a known area, a whole number ≥ 0), then all
    written or none. Returns {"written": n, "problems": [{"line", "message"}]}; with problems,
    nothing is written. Does not commit."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            lines = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return {"written": 0, "problems": [{"line": None, "message": f"cannot read {path}: {exc}"}]}
    rows, problems = rules.population_rows(lines, default_source=source)
    known = queries.known_areas(session, [r["area_code"] for r in rows])
    for r in rows:
        if r["area_code"] not in known:
            problems.append({"line": r["line"], "message": f"{r['area_code']}: no such area"})
    if problems:
        return {"written": 0, "problems": sorted(problems, key=lambda x: x["line"] or 0)}
    queries.upsert_populations(session, [{k: r[k] for k in ("area_code", "population",
                                                                "source")} for r in rows],
                               clock.now())
    return {"written": len(rows), "problems": []}


def list_populations(session: Session, area: str | None = None) -> list[dict]:
    """Every area's residents (under an area prefix), by code."""
    return queries.population_rows(session, area)


def top_problems(session: Session, principal: Principal, settings: Settings, *,
                 period: str | None = None, area: str | None = None, level: str = "community",
                 source: str | None = None,
                 limit: int = 10, cells: int = 5, trend_months: int = 3) -> dict:
    """每月一题: the category × area classes (area at `level`) with the most 立案 cases in
    the month, each with its counts in the `trend_months` months before and the cells where it
    clusters (count and a point inside the cell). Only cases the principal may see count.
    """
    p = period_of(settings, period=period)
    cutoff = p.cutoff(clock.now())
    months = [p.shifted_months(-k, settings.timezone) for k in range(trend_months, 0, -1)] + [p]
    rows = queries.top_problem_rows(
        session, principal, level=level, start=p.start, trend_start=months[0].start,
        cutoff=cutoff, tz=settings.timezone, limit=limit, cells=cells, area_prefix=area,
        source=source)
    points = queries.cell_points(session, sorted({c["code"] for r in rows for c in r["cells"]}))
    items = []
    for r in rows:
        by_month = {**(r["months"] or {}), p.label: r["count"]}
        trend = [{"month": m.label, "count": int(by_month.get(m.label, 0))} for m in months]
        before = [t["count"] for t in trend[:-1]]
        average = (Decimal(sum(before)) / Decimal(len(before))).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP) if before else None
        items.append({
            "category": {"code": r["category"], "name": r["category_name"],
                         "name_en": r["category_name_en"]},
            "area": {"code": r["area"], "name": r["area_name"], "name_en": r["area_name_en"],
                     "level": level},
            "count": r["count"],
            "trend": trend,
            "previous_average": average,
            "cells": [{"code": c["code"], "count": c["count"],
                       "name": points.get(c["code"], {}).get("name"),
                       "name_en": points.get(c["code"], {}).get("name_en"),
                       "lon": points.get(c["code"], {}).get("lon"),
                       "lat": points.get(c["code"], {}).get("lat")} for c in r["cells"]],
        })
    return {"period": _period_view(p, cutoff), "level": level, "area": area,
            "months": [m.label for m in months], "items": items}


# the tables being analyzed in the background by this process (not started twice)
_ANALYZING: set[str] = set()
_ANALYZING_LOCK = threading.Lock()


def refresh_statistics(session: Session, *, wait: bool = True) -> list[str]:
    """ANALYZE the tables the indicators read if a bulk load left their statistics stale, so
    the planner does not pick a plan for empty tables (the first query after a bulk load of a
    month took 709 s before this, 0.4 s after). ANALYZE reads a sample (30,000 rows by
    default), so this costs about a second at a city's size. Each table is analyzed on a
    connection of its own in autocommit (side by side: queries.analyze_table), so the
    statistics stay whatever the caller's transaction does; a role that may not ANALYZE (not
    the tables' owner) leaves them as they are.

    wait=True: returns once they are analyzed (the tables analyzed). wait=False (the caller's
    plan does not depend on them, queries.needs_statistics): the ANALYZE runs in the
    background, for every later query, and this returns at once (the tables whose ANALYZE it
    started)."""
    stale = queries.stale_tables(session)
    if not stale:
        return []
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)

    def analyze(table: str) -> str | None:
        try:
            queries.analyze_table(engine, table)
            log.info("stats: analyzed %s (stale statistics after a bulk load)", table)
            return table
        except DBAPIError as exc:  # not the owner, or a lock it could not get
            log.warning("stats: could not ANALYZE %s: %s", table, exc.orig)
            return None
        finally:
            with _ANALYZING_LOCK:
                _ANALYZING.discard(table)

    with _ANALYZING_LOCK:
        started = [t for t in stale if t not in _ANALYZING]
        _ANALYZING.update(started)
    if not wait:
        for table in started:
            threading.Thread(target=analyze, args=(table,), name=f"analyze-{table}",
                             daemon=True).start()
        return started
    # the tables side by side, each on a connection of its own (one another request of this
    # process is analyzing already is analyzed again: this caller needs it done)
    with ThreadPoolExecutor(max_workers=len(stale)) as pool:
        return [t for t in pool.map(analyze, stale) if t]


def keep_closed_months(session: Session, settings: Settings, *, limit: int | None = 1,
                       months: list[str] | None = None) -> list[dict]:
    """Keep the indicator facts of the calendar months closed for good (rules.months_to_keep,
    newest first; or the months named) that are not kept yet, at most `limit` of them (None:
    all), so that their tables read ~one narrow row per report instead of folding a month of
    trail. Returns [{period, cases, ms}] of those kept. Does not commit. Raises AppError
    request.invalid for a month named that is not closed for good yet."""
    now = clock.now()
    closed = rules.months_to_keep(now, settings.timezone)
    if months is not None:
        wanted = [period_of(settings, period=m) for m in months]
        for p in wanted:
            if p.end + rules.KEEP_AFTER > now:
                raise AppError("request.invalid", f"{p.label} is not closed for good yet: its "
                               f"facts can be kept from {(p.end + rules.KEEP_AFTER).isoformat()}.",
                               {"period": [f"{p.label} is not closed yet."]})
        closed = wanted
    done = []
    # history written into a kept month since (rows imported by hand with its times): its
    # facts are forgotten, and kept again below
    since = closed[-1].start if closed else now
    for gone in queries.kept_periods_changed(session, since):
        queries.forget_period(session, gone["period_start"], gone["cutoff"])
        log.warning("stats: the reports or trail of %s changed since its facts were kept: "
                    "forgotten, to be kept again", gone["label"])
    rule = _rule(settings)
    for p in closed:
        if limit is not None and len(done) >= limit:
            break
        t = time.perf_counter()
        n = None
        to = queries.kept_to(session, p.start, p.end)
        if to is None:
            n = queries.keep_period(session, label=p.label, start=p.start, cutoff=p.end,
                                    now=now)
            if n is None:  # another transaction keeps it
                continue
        elif to < p.end:  # kept while it ran: moved on to its end
            n = queries.advance_period(session, label=p.label, start=p.start, end=p.end,
                                       to=p.end, now=now)
            if n is None:
                continue
        elif queries.kept_sums(session, p.start, p.end, rule):
            continue
        # its counts added up, under the settings in force (kept again once they change)
        queries.keep_sums(session, start=p.start, cutoff=p.end, rule=rule,
                          suspended_leave_due=settings.suspended_leave_due,
                          on_time_stages=settings.on_time_stages)
        done.append({"period": p.label, "cases": n,
                     "ms": round((time.perf_counter() - t) * 1000)})
    return done


def keep_current_month(session: Session, settings: Settings) -> dict | None:
    """Keep the current month's facts to a watermark (rules.KEEP_LAG before now), or move its
    watermark on: the reports touched since folded again (the first time: the whole month
    so far). Its table then reads the kept facts and folds only the trail of the reports
    touched after the watermark. Returns {period, cases, ms} (cases: the reports folded), or
    None if there was nothing to do. Does not commit."""
    now = clock.now()
    p = period_of(settings)
    to = now - rules.KEEP_LAG
    if to <= p.start:
        return None
    t = time.perf_counter()
    if queries.kept_to(session, p.start, p.end) is None:
        n = queries.keep_period(session, label=p.label, start=p.start, cutoff=p.end, now=now,
                                to=to)
    else:
        n = queries.advance_period(session, label=p.label, start=p.start, end=p.end, to=to,
                                   now=now)
    if n is None:
        return None
    return {"period": p.label, "cases": n, "ms": round((time.perf_counter() - t) * 1000)}


def forget_kept_month(session: Session, settings: Settings, month: str) -> bool:
    """Drop a month's kept facts (its tables fold the trail again until it is kept anew);
    whether any were kept. Does not commit."""
    p = period_of(settings, period=month)
    return queries.forget_period(session, p.start, p.end)
