"""Use cases of 按时巡: start and end a patrol, take its track in batches (offline-safe),
compute its coverage and flags, read it (the worker's and the covering supervisors' only), the
plans, the week's figures, and the retention purge. In the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from .. import clock
from ..errors import AppError
from ..grid.rules import PREFIX_LENGTH
from ..settings import Settings
from ..stats import service as stats_service
from ..users import permissions as perm
from ..users.rules import Principal
from . import queries, rules


def _view(row) -> dict:
    return {k: row[k] for k in (
        "id", "worker_id", "worker_name", "started_at", "ended_at", "points", "distance_m",
        "seconds", "max_speed_mps", "flags", "track_purged_at")} | {
        "recording": row["ended_at"] is None}


def _visible(session: Session, principal: Principal, patrol_id: uuid.UUID, *,
             lock: bool = False):
    row = queries.find_patrol(session, patrol_id, lock=lock)
    perm.require(principal, perm.READ_PATROL, rules.subject_of(row, patrol_id))
    return row


def start_patrol(session: Session, principal: Principal, patrol_id: uuid.UUID,
                 started_at: datetime, settings: Settings) -> tuple[dict, bool]:
    """Start a patrol under the id the phone made; a replay with the same start is answered as
    it was (False), another start under the id is patrol.id_conflict. Raises AppError
    auth.forbidden (not a worker), report.implausible_time."""
    perm.require(principal, perm.RECORD_PATROLS)
    created = queries.insert_patrol(session, patrol_id=patrol_id, worker_id=principal.id,
                                    worker_scopes=principal.scopes, started_at=started_at)
    row = _visible(session, principal, patrol_id)
    if not created and (row["worker_id"] != principal.id or row["started_at"] != started_at):
        raise AppError("patrol.id_conflict", f"Patrol {patrol_id} exists already with "
                       "another start; make a new id for a new patrol.")
    return _view(row), created


def _recordable(session: Session, principal: Principal, patrol_id: uuid.UUID):
    row = _visible(session, principal, patrol_id, lock=True)
    perm.require(principal, perm.RECORD_PATROLS, rules.subject_of(row, patrol_id))
    return row


def add_points(session: Session, principal: Principal, patrol_id: uuid.UUID,
               points: list[dict]) -> dict:
    """A batch of the track (each point under the phone's id: a batch sent again adds
    nothing). A batch arriving after the end computes the coverage again. Returns {accepted,
    duplicates, patrol}. Raises AppError patrol.not_found, auth.forbidden, request.invalid (a
    point outside the patrol's time, named by its index)."""
    row = _recordable(session, principal, patrol_id)
    bad = {f"points.{i}.recorded_at": [why] for i, p in enumerate(points)
           if (why := rules.point_window_problem(p["recorded_at"], row["started_at"],
                                                 row["ended_at"]))}
    if bad:
        raise AppError("request.invalid", "Points outside the patrol's time.", bad)
    accepted = queries.add_points(session, patrol_id, points)
    if row["ended_at"] is not None and accepted:
        _summarise(session, patrol_id, row["worker_scopes"])
    return {"accepted": accepted, "duplicates": len(points) - accepted,
            "patrol": _view(queries.find_patrol(session, patrol_id))}


def _summarise(session: Session, patrol_id: uuid.UUID, worker_scopes) -> None:
    summary = queries.compute_coverage(session, patrol_id)
    flags = rules.flags_of(max_speed_mps=summary["max_speed_mps"], points=summary["points"],
                           far_points=queries.far_points(session, patrol_id, worker_scopes))
    queries.set_summary(session, patrol_id, summary, flags)


def end_patrol(session: Session, principal: Principal, patrol_id: uuid.UUID,
               ended_at: datetime) -> dict:
    """End the patrol: its distance, time, coverage per cell and flags are computed (in
    PostGIS). Ending again with the same time is a replay; another time is patrol.id_conflict.
    Raises AppError patrol.not_found, auth.forbidden, request.invalid (before its start)."""
    row = _recordable(session, principal, patrol_id)
    if row["ended_at"] is not None:
        if row["ended_at"] != ended_at:
            raise AppError("patrol.id_conflict", f"Patrol {patrol_id} ended already at "
                           f"{row['ended_at'].isoformat()}.")
        return get_patrol(session, principal, patrol_id)
    if ended_at < row["started_at"]:
        raise AppError("request.invalid", "ended_at: before the patrol started.",
                       {"ended_at": ["Before started_at."]})
    queries.set_ended(session, patrol_id, ended_at)
    _summarise(session, patrol_id, row["worker_scopes"])
    return get_patrol(session, principal, patrol_id)


def get_patrol(session: Session, principal: Principal, patrol_id: uuid.UUID, *,
               track: bool = False) -> dict:
    """The patrol, its cells (time inside, metres), the reports made during it, and with
    `track` its points and line (GeoJSON) unless purged. Raises AppError patrol.not_found."""
    row = _visible(session, principal, patrol_id)
    out = _view(row)
    out["cells"] = [dict(c) for c in queries.cells_of(session, patrol_id)]
    end = row["ended_at"] or clock.now()
    out["reports"] = [dict(r) for r in queries.reports_during(session, row["worker_id"],
                                                              row["started_at"], end)]
    if track:
        t = queries.track_geojson(session, patrol_id)
        out["track"] = {"type": "Feature", "geometry": t["line"],
                        "properties": {"points": t["points"] or []}}
    return out


def list_patrols(session: Session, principal: Principal, *, worker_id: int | None = None,
                 day: date | None = None, settings: Settings) -> list[dict]:
    """The patrols the caller sees (their own; a supervisor's: those of the workers they
    cover), latest first; `day` in the deployment's time zone."""
    start = end = None
    if day is not None:
        start, _ = rules.week_bounds(day, settings.timezone)
        end = start + timedelta(days=1)
    rows = queries.list_patrols(session, principal.id, rules.supervised_scopes(principal),
                                worker_id=worker_id, start=start, end=end)
    return [_view(r) for r in rows]


def _require_area(principal: Principal, area_prefix: str) -> None:
    if not (principal.sees_everything or any(area_prefix.startswith(s)
                                             for s in principal.scopes)):
        raise AppError("patrol.outside_scope",
                       f"Area {area_prefix or '(the city)'} is not within your scope.",
                       {"area": ["Outside your scope."]})


def set_plan(session: Session, principal: Principal, body: dict) -> dict:
    """巡查计划 for the cells under an area (one plan per area: set again, it is replaced).
    Raises AppError auth.forbidden, patrol.outside_scope, request.invalid."""
    perm.require(principal, perm.PLAN_PATROLS)
    _require_area(principal, body["area"])
    ws, we = body.get("window_start"), body.get("window_end")
    if (ws is None) != (we is None) or (ws is not None and ws == we):
        raise AppError("request.invalid", "A window of the day has a start and a different end.",
                       {"window_end": ["Give both ends of the window, different."]})
    plan_id = queries.upsert_plan(session, area_prefix=body["area"],
                                  visits_per_week=body["visits_per_week"], window_start=ws,
                                  window_end=we, created_by_id=principal.id)
    return dict(queries.find_plan(session, plan_id))


def list_plans(session: Session, principal: Principal) -> list[dict]:
    perm.require(principal, perm.PLAN_PATROLS)
    patterns = ["%"] if principal.sees_everything else [s + "%" for s in principal.scopes]
    return [dict(r) for r in queries.list_plans(session, patterns)]


def delete_plan(session: Session, principal: Principal, plan_id: int) -> None:
    perm.require(principal, perm.PLAN_PATROLS)
    row = queries.find_plan(session, plan_id)
    if row is None or not (principal.sees_everything or any(
            row["area_prefix"].startswith(s) for s in principal.scopes)):
        raise AppError("patrol.plan_not_found", f"There is no patrol plan {plan_id}.")
    queries.delete_plan(session, plan_id)


def week_figures(session: Session, principal: Principal, settings: Settings, *,
                 area_prefix: str, week: date) -> dict:
    """巡查覆盖率, 巡查次数 and time per cell, distance and time per worker, plans met, for
    the cells under an area in the week starting on Monday `week` (local time). Flagged
    patrols are counted apart, not in the coverage. Raises AppError auth.forbidden,
    patrol.outside_scope, request.invalid (not a Monday)."""
    perm.require(principal, perm.READ_PATROL_FIGURES)
    _require_area(principal, area_prefix)
    problem = rules.week_problem(week)
    if problem:
        raise AppError("request.invalid", f"week: {problem}", {"week": [problem]})
    start, end = rules.week_bounds(week, settings.timezone)
    cells = [dict(r) for r in queries.cell_figures(session, area_prefix=area_prefix,
                                                   start=start, end=end,
                                                   tz=settings.timezone)]
    for c in cells:
        c["met"] = None if c["planned"] is None else c["planned_visits"] >= c["planned"]
    workers = [dict(r) for r in queries.worker_figures(session, area_prefix=area_prefix,
                                                       start=start, end=end)]
    walked = sum(1 for c in cells if c["visits"])
    planned = [c for c in cells if c["planned"] is not None]
    met = sum(1 for c in planned if c["met"])
    return {"area": area_prefix, "week": week, "cells": len(cells), "cells_walked": walked,
            "coverage_rate": rules.rate(walked, len(cells)),
            "visits": sum(c["visits"] for c in cells),
            "seconds": sum(c["seconds"] for c in cells),
            "cells_planned": len(planned), "cells_met": met,
            "plans_met_rate": rules.rate(met, len(planned)),
            "flagged_patrols": sum(w["flagged"] for w in workers),
            "per_cell": cells, "per_worker": workers}


def _patterns(principal: Principal, area: str | None) -> list[str]:
    if area is not None:
        _require_area(principal, area)
        return [area + "%"]
    if principal.sees_everything:
        return ["%"]
    return [s + "%" for s in principal.scopes]


def patrol_table(session: Session, principal: Principal, settings: Settings, *,
                 group: str = "community", period: str | None = None,
                 first: date | None = None, last: date | None = None, area: str | None = None,
                 stale_days: int = rules.STALE_DAYS) -> dict:
    """The patrol table (巡查指标) of a period, like the indicator table's (this month by
    default, taken at its end or now): per area of a level — cells, cells walked and 巡查覆盖率,
    visits, hours and km inside its cells, patrols, workers, cells not walked in the
    `stale_days` before the cutoff — or per worker (patrols, km, hours, cells walked, flagged),
    and the total; under the caller's scope (or `area` within it). Flagged patrols walk no
    cell. Raises AppError auth.forbidden, patrol.outside_scope, request.invalid (the period)."""
    perm.require(principal, perm.READ_PATROL_FIGURES)
    patterns = _patterns(principal, area)
    p = stats_service.period_of(settings, period=period, first=first, last=last)
    cutoff = p.cutoff(clock.now())
    stale_from = cutoff - timedelta(days=stale_days)
    if group == "worker":
        counts = queries.worker_table(session, patterns=patterns, start=p.start, cutoff=cutoff)
        names: dict = {}
    else:
        counts = queries.area_table(session, patterns=patterns,
                                    key_length=PREFIX_LENGTH.get(group), start=p.start,
                                    cutoff=cutoff, stale_from=stale_from)
        names = queries.area_names(session, [c["key"] for c in counts if not c["is_total"]])
    rows, total = [], None
    for c in counts:
        row = rules.table_row(dict(c))
        if c["is_total"]:
            total = {"key": None, "name": "合计", "name_en": "Total", **row}
            continue
        named = names.get(c["key"]) or {"name": c.get("name"), "name_en": None}
        rows.append({"key": c["key"], **named, **row})
    if total is None:
        total = {"key": None, "name": "合计", "name_en": "Total", **rules.table_row({})}
    return {"period": {"label": p.label, "from": p.first_day, "to": p.last_day,
                       "start": p.start, "end": p.end, "cutoff": cutoff},
            "group": group, "area": area, "stale_days": stale_days, "stale_from": stale_from,
            "rows": rows, "total": total}


def coverage_map(session: Session, principal: Principal, settings: Settings, *,
                 period: str | None = None, first: date | None = None,
                 last: date | None = None, area: str | None = None) -> dict:
    """The map's coverage layer: the cells of the caller's scope (or `area` within it) as a
    GeoJSON FeatureCollection, each with its visits in the period (as the patrol table's),
    walked or not, and when last. Raises AppError auth.forbidden, patrol.outside_scope,
    request.invalid."""
    perm.require(principal, perm.READ_PATROL_FIGURES)
    patterns = _patterns(principal, area)
    p = stats_service.period_of(settings, period=period, first=first, last=last)
    return queries.coverage_map(session, patterns=patterns, start=p.start,
                                cutoff=p.cutoff(clock.now()))


def day_tracks(session: Session, principal: Principal, settings: Settings, *,
               day: date) -> dict:
    """The tracks of the patrols started on `day` (the deployment's time zone) that the caller
    sees — their own; a supervisor's: the workers they cover — as GeoJSON LineStrings with
    the worker, times, distance and flags. Never on a public surface."""
    start, _ = rules.week_bounds(day, settings.timezone)
    return queries.tracks_map(session, principal.id, rules.supervised_scopes(principal),
                              start=start, end=start + timedelta(days=1))


def purge_tracks(session: Session, settings: Settings, now: datetime | None = None) -> int:
    """Retention: the track points of patrols ended more than track_retention_days ago are
    deleted; the patrols' figures and cells stay. Returns how many patrols were purged."""
    now = now or clock.now()
    return queries.purge_tracks(session, now - timedelta(days=settings.track_retention_days))
