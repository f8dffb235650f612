"""Pure decisions of 按时巡: the limits of a track, when a patrol is flagged, who sees a track,
and a plan's and a week's arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from ..users.permissions import READ_PATROL, SUPERVISE_PATROLS, Verb, may
from ..users.rules import Principal

# a batch of track points from the phone (a point every few seconds: minutes of walking)
POINTS_PER_BATCH = 500
# a point may be this far outside its patrol's start and end (a phone's clock and its queue)
POINT_SLACK = timedelta(minutes=2)
# the buffer of a track: a cell is walked when the track passes within this many metres of it
# (workers walk the streets that bound cells)
BUFFER_M = 15.0
# the gap between two points past which the phone was not recording (killed, no fix): the
# time between them is counted in no cell
MAX_GAP_S = 300
# flags: faster than this between two points is no patrol on foot or by bicycle (54 km/h)
MAX_SPEED_MPS = 15.0
# points worse than this are kept but not trusted for the speed flag
SPEED_ACCURACY_M = 50.0
# farther than this from every cell of the worker's scope, a point is far from their cells;
# a track with more than FAR_SHARE of its points so is flagged
FAR_M = 500.0
FAR_SHARE = Fraction(1, 5)
IMPOSSIBLE_SPEED = "impossible_speed"
FAR_FROM_CELLS = "far_from_cells"
FLAGS = (IMPOSSIBLE_SPEED, FAR_FROM_CELLS)


def flags_of(*, max_speed_mps: float | None, points: int, far_points: int) -> list[str]:
    """The flags a patrol gets: counted, but shown to the supervisor as doubtful."""
    out = []
    if max_speed_mps is not None and max_speed_mps > MAX_SPEED_MPS:
        out.append(IMPOSSIBLE_SPEED)
    if points and Fraction(far_points, points) > FAR_SHARE:
        out.append(FAR_FROM_CELLS)
    return out


def point_window_problem(at: datetime, started_at: datetime, ended_at: datetime | None) -> str | None:
    if at < started_at - POINT_SLACK:
        return "Before the patrol started."
    if ended_at is not None and at > ended_at + POINT_SLACK:
        return "After the patrol ended."
    return None


def supervised_scopes(p: Principal) -> tuple[str, ...]:
    """The scopes under which the principal sees other workers' tracks (supervisors and
    admins: those covering the worker's cells)."""
    return p.scopes if may(p, SUPERVISE_PATROLS) else ()


def covers_worker(scopes: tuple[str, ...], worker_scopes) -> bool:
    """A supervisor covers a worker when one of their scopes contains one of the worker's."""
    return any(w.startswith(s) for s in scopes for w in worker_scopes)


@dataclass(frozen=True)
class PatrolSubject:
    """A patrol as the subject of a permission verb: personal data, seen by its worker and
    the supervisors covering the worker's cells only; nobody else knows it exists."""

    patrol_id: object
    worker_id: int | None
    worker_scopes: tuple[str, ...]

    def visible_to(self, p: Principal) -> bool:
        return p.id == self.worker_id or covers_worker(supervised_scopes(p), self.worker_scopes)

    def allows(self, p: Principal, verb: Verb) -> bool:
        if verb.name == READ_PATROL.name:
            return True
        return p.id == self.worker_id  # recording (points, end): the worker's own patrol

    def not_found(self) -> tuple[str, str]:
        return "patrol.not_found", f"There is no patrol {self.patrol_id}."


def subject_of(row, patrol_id) -> PatrolSubject:
    if row is None:
        return PatrolSubject(patrol_id, None, ())
    return PatrolSubject(patrol_id, row["worker_id"], tuple(row["worker_scopes"]))


def week_bounds(monday: date, tz: str) -> tuple[datetime, datetime]:
    """[start, end) of the week that starts on `monday` in the deployment's time zone."""
    zone = ZoneInfo(tz)
    start = datetime.combine(monday, time(0), zone)
    return start, datetime.combine(monday + timedelta(days=7), time(0), zone)


def week_problem(monday: date) -> str | None:
    return None if monday.weekday() == 0 else "A week starts on a Monday."


def rate(part: int, whole: int) -> float | None:
    if whole <= 0:
        return None
    return round(float(Fraction(part, whole)), 4)


# the patrol table of a period (巡查指标): grouped by an area level or by worker
TABLE_GROUPS = ("district", "street", "community", "cell", "worker")
# a cell not walked (by a patrol not flagged) in this many days before the period's cutoff
# is 未巡查 (stale): the default of `stale_days`
STALE_DAYS = 7


def table_row(c: dict) -> dict:
    """A row of the patrol table from its counts: the rate of cells walked (巡查覆盖率), time
    as hours and distance as km besides the seconds and metres counted."""
    cells, walked = int(c.get("cells") or 0), int(c.get("cells_walked") or 0)
    seconds, metres = float(c.get("seconds") or 0), float(c.get("distance_m") or 0)
    return {"cells": cells, "cells_walked": walked, "coverage_rate": rate(walked, cells),
            "cells_stale": int(c.get("cells_stale") or 0),
            "visits": int(c.get("visits") or 0), "patrols": int(c.get("patrols") or 0),
            "workers": int(c.get("workers") or 0), "flagged": int(c.get("flagged") or 0),
            "seconds": seconds, "hours": round(seconds / 3600, 2),
            "distance_m": metres, "km": round(metres / 1000, 3)}
