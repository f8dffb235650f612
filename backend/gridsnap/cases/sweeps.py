"""The sweeps of the case loop, by the system principal over many cases at once: the 挂账
cases back on their review date, the overdue marks and escalation (限时办理, 街乡吹哨), the
running deadlines counted again after the holiday data changed. Each goes through the one
writer (change.py); none commits unless it says so."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy.orm import Session

from .. import clock
from ..events import rules as ev
from ..events.queries import Event
from ..notifications import rules as kinds
from ..notifications.rules import Notice
from ..settings import Settings
from ..users import queries as users
from . import change, queries, rules
from .outcome import ActionContext
from .review import queries as review_queries

# --- the system: 挂账 cases back on their review date -------------------------------------------

def resume_suspended(session: Session, settings: Settings, *, now: datetime | None = None,
                     limit: int = 500) -> int:
    """Resume every suspended case (挂账) whose review date has come in the deployment's time
    zone, by the system principal through the case rules (rules.ACTIONS["resume"]): dispatched
    to the same department under a new handling deadline. Idempotent: a resumed case is no
    longer suspended, and cases an action holds locked wait for the next run. Does not commit;
    returns the count (at most `limit` a run)."""
    now = now or clock.now()
    rows = review_queries.lock_due_suspensions(session, rules.local_date(now, settings.timezone),
                                        limit=limit)
    for row in rows:
        change.run(session, rules.SYSTEM, row, ["resume"], {}, settings=settings)
    return len(rows)


# --- the system: deadlines (限时办理) and escalation (街乡吹哨) ----------------------------------

def escalate_overdue(session: Session, *, now: datetime | None = None, ids: list | None = None,
                     limit: int = 200_000) -> int:
    """Mark every case past its stage's due time overdue (rules.ACTIONS["mark_overdue"]: its
    case.overdue event), and escalate (a case.escalated event): the supervisors one area level
    above those who own the case are notified, and in the handling stage the department's
    handlers too; at escalation level 2 or more, or on a case handed back twice, the
    notification proposes a whistle (data proposal "whistle": 街乡吹哨, rules.proposes_whistle). Idempotent:
    an overdue case is not marked again until a new stage starts; a case that moved on is not
    touched. Set-based, for sweeps over many thousands of cases: the cases locked in one
    statement, marked with their events and notices in one more (change.write_set). Does not
    commit; returns the count."""
    now = now or clock.now()
    action = rules.ACTIONS["mark_overdue"]
    rows = [dict(r, escalation_level=r["escalation_level"] + 1) for r in queries.lock_overdue(
        session, now=now, statuses=sorted(action.from_statuses), ids=ids, limit=limit)]
    if not rows:
        return 0
    # every area's supervisors and every department's handlers in one statement each
    sups: dict = defaultdict(list)
    for r in users.supervisors_by_depth(session, sorted({r["area_code"] for r in rows},
                                                         key=lambda a: a or "")):
        sups[r["area_code"]].append(r)
    handlers = users.handlers_covering(session, sorted({
        (r["department_code"], r["area_code"]) for r in rows
        if r["stage"] == "handle" and r["department_code"]}, key=lambda u: (u[0], u[1] or "")))
    admin_ids: list[int] | None = None

    def admins() -> list[int]:
        nonlocal admin_ids
        if admin_ids is None:
            admin_ids = users.admins(session)
        return admin_ids

    targets: dict = {}
    marks: list[Event] = []
    escalations: list[Event] = []
    notices: list[Notice] = []
    for c in rows:
        marks.append(Event(report_id=c["id"], action=action.event, at=now,
                           from_status=c["status"], to_status=c["status"],
                           department_code=c["department_code"],
                           data={"stage": c["stage"], "due_at": c["due_at"].isoformat()}))
        if c["area_code"] not in targets:
            targets[c["area_code"]] = rules.pick_level(sups.get(c["area_code"], []), "next_up",
                                                       admins)
        who = list(targets[c["area_code"]])
        if c["stage"] == "handle" and c["department_code"]:
            who += handlers.get((c["department_code"], c["area_code"]), [])
        who = sorted(set(who))
        escalations.append(Event(report_id=c["id"], action=ev.CASE_ESCALATED, at=now,
                                 data={"escalation_level": c["escalation_level"],
                                       "notified": who, "stage": c["stage"]}))
        data = {"number": c["number"], "stage": c["stage"],
                "escalation_level": c["escalation_level"]}
        if rules.proposes_whistle(c):  # 吹哨: the command centre offers the whistle form
            data["proposal"] = "whistle"
        notices.append(Notice(kinds.CASE_OVERDUE, tuple(who), c["id"], data))
    return change.write_set(
        session, [{"id": str(c["id"]), "overdue": True, "overdue_at": now.isoformat(),
                   "escalation_level": c["escalation_level"]} for c in rows],
        marks + escalations, notices, now=now)


# --- the system: deadlines counted again after the holiday data changed ----------------------

def recompute_deadlines(session: Session, settings: Settings, *, dry_run: bool = False,
                        every: bool = False, batch: int = 200) -> Iterator[list[dict]]:
    """Count the running deadlines of open cases again on the calendar in use (after a holiday
    notice was added: GRIDSNAP_HOLIDAYS_FILE, or a newer holidays library), each from its
    stage's start by its limit and the extensions approved since (actions._recompute_deadline
    says what happens to overdue cases). Only the estimated ones (due_at_guessed_years), or
    `every` running deadline (after a correction of a year that was covered already; note that
    this also applies the current limits of categories and of the hotline).

    Each case whose deadline or estimate changes gets it through the one writer with a
    `case.deadline_recomputed` event and a new deadline check; those whose new deadline has
    passed are then marked overdue. Yields the changes of every `batch` cases once they are
    written, for the caller (who owns the transaction) to commit before the next; `dry_run`
    writes nothing. One dict per changed case: id, number, stage, old_due_at, due_at,
    old_guessed_years, guessed_years, overdue_cleared.
    """
    now = clock.now()
    ids = queries.running_case_ids(session, statuses=rules.OPEN_STATUSES,
                                   only_guessed=not every)
    for i in range(0, len(ids), batch):
        changed: list[dict] = []
        written = []
        for report_id in ids[i:i + batch]:
            row = queries.lock_case(session, report_id)
            if (row is None or row["stage"] is None or row["stage_started_at"] is None
                    or row["status"] not in rules.OPEN_STATUSES):
                continue  # it moved on since it was listed
            ctx = ActionContext(session=session, principal=rules.SYSTEM, case=dict(row),
                                body={}, note=None, now=now, settings=settings)
            due, guessed = ctx.recomputed_deadline()
            if due == row["due_at"] and (guessed or None) == (row["due_at_guessed_years"] or None):
                continue
            changed.append({
                "id": row["id"], "number": row["number"], "stage": row["stage"],
                "old_due_at": row["due_at"], "due_at": due,
                "old_guessed_years": row["due_at_guessed_years"] or [],
                "guessed_years": guessed or [],
                "overdue_cleared": bool(row["overdue"]) and due > now})
            if not dry_run:
                change.run(session, rules.SYSTEM, row, ["recompute_deadline"], {},
                           settings=settings)
                written.append(row["id"])
        if written:
            escalate_overdue(session, now=now, ids=written)
        yield changed
