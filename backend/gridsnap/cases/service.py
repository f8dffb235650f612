"""Use cases of the closed loop: act on a case (a person), route new cases and accept or
dispatch them on their own (the system), mark overdue cases (the deadline sweep), find
possible duplicates; and read a case's trail.

Every change of a case goes through the one writer, `change.run`: the rules decide (state ×
action × role × scope), the action's function says what changes (actions.py), and
`change.write` applies it in the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from sqlalchemy.orm import Session

from .. import clock
from ..errors import AppError
from ..events import rules as ev
from ..events.queries import Event, find_by_client_action, insert_events, list_for_case
from ..notifications import rules as kinds
from ..notifications.queries import add_notices
from ..notifications.rules import Notice
from ..settings import Settings
from ..users import queries as users
from ..users.rules import Principal
from . import change, queries, rules, views
from .outcome import ActionContext


def act(session: Session, principal: Principal, report_id: uuid.UUID, body: dict, *,
        settings: Settings, if_match: int | None = None) -> dict:
    """Take an action on a case; commits and returns the case as the caller now sees it.

    Raises AppError: case.not_found (missing or out of scope), case.invalid_transition,
    case.action_forbidden, case.precondition_failed (If-Match is stale), case.note_required,
    case.photo_required, case.too_far, case.bad_target, case.action_id_conflict.
    An action sent again with the same client_action_id is answered with the case as it is,
    without acting twice (a phone replaying its offline queue). The replay is looked for after
    the case is locked, so copies sent at once are answered alike.
    """
    row = queries.lock_case(session, report_id)
    client_action_id = body.get("client_action_id")
    if client_action_id is not None and row is not None:
        done = find_by_client_action(session, client_action_id)
        if done is not None:
            return _replayed(session, principal, row, done, body)
    if row is None or not rules.visible_to(principal, row):
        raise AppError("case.not_found", f"There is no case {report_id}.")
    if if_match is not None and if_match != row["version"]:
        raise AppError("case.precondition_failed",
                       "The case changed since you loaded it; reload and try again.",
                       headers={"ETag": f'"{row["version"]}"'})
    changed = change.run(session, principal, row, rules.follow_up_steps(body["action"], body),
                         body, settings=settings, client_action_id=client_action_id)
    session.commit()
    # the actor gets the case as it now is, even if the action took it out of their sight
    # (a department returning a case no longer sees it)
    return views.case_views(session, principal, [changed], with_links=True)[0]


def change_case(session: Session, principal: Principal, report_id: uuid.UUID, steps: list[str],
                body: dict, *, settings: Settings) -> dict:
    """Run actions on a case for another feature's use case (the hotline's 即时答复 and 回访),
    by the same rules and the same writer as `act`; returns the case's new read-model row.
    Does not commit. Raises AppError like `act`."""
    row = queries.lock_case(session, report_id)
    if row is None or not rules.visible_to(principal, row):
        raise AppError("case.not_found", f"There is no case {report_id}.")
    return change.run(session, principal, row, steps, body, settings=settings)


def _replayed(session: Session, principal: Principal, row, done, body: dict) -> dict:
    if done["actor_id"] != principal.id and not rules.visible_to(principal, row):
        raise AppError("case.not_found", f"There is no case {row['id']}.")
    action = rules.ACTIONS.get(body["action"])
    if (done["report_id"] != row["id"] or done["actor_id"] != principal.id
            or action is None or done["action"] != action.event):
        raise AppError("case.action_id_conflict",
                       "This client_action_id was used for another action.")
    session.rollback()  # nothing to do: let the lock go
    return views.case_views(session, principal, [queries.find_case_row(session, row["id"])],
                            with_links=True)[0]


# --- the system: first routing, auto-accept and auto-dispatch --------------------------------

def route_new_cases(session: Session, settings: Settings, report_ids: list[str]) -> int:
    """First routing of new cases, by the system principal. Idempotent: a routed case is left
    alone. Each gets the department the routing rules suggest (rule → category default → the
    area's supervisors), its accept deadline (限时办理) with a scheduled check, and, where its
    category says so, is accepted and dispatched at once. Does not commit; returns the count.
    """
    rows = queries.lock_unrouted(session, report_ids)
    for row in rows:
        change.run(session, rules.SYSTEM, row, ["route"], {}, settings=settings,
                   next_step=rules.next_automatic_action)
    return len(rows)


# --- the system: 挂账 cases back on their review date -------------------------------------------

def resume_suspended(session: Session, settings: Settings, *, now: datetime | None = None,
                     limit: int = 500) -> int:
    """Resume every suspended case (挂账) whose review date has come in the deployment's time
    zone, by the system principal through the case rules (rules.ACTIONS["resume"]): dispatched
    to the same department under a new handling deadline. Idempotent: a resumed case is no
    longer suspended, and cases an action holds locked wait for the next run. Does not commit;
    returns the count (at most `limit` a run)."""
    now = now or clock.now()
    rows = queries.lock_due_suspensions(session, rules.local_date(now, settings.timezone),
                                        limit=limit)
    for row in rows:
        change.run(session, rules.SYSTEM, row, ["resume"], {}, settings=settings)
    return len(rows)


# --- the system: possible duplicates ------------------------------------------------------------

def link_duplicates(session: Session, settings: Settings, report_ids: list[str]) -> int:
    """Link each new case to earlier open cases of its category nearby (per-category radius,
    default 50 m) within the window (default 7 days), each link on the trail. Idempotent.
    Does not commit; returns the links made."""
    links = queries.link_duplicates(session, report_ids,
                                    window_days=settings.duplicate_window_days,
                                    open_statuses=rules.OPEN_STATUSES)
    insert_events(session, [Event(report_id=r.report_id, action=ev.CASE_POSSIBLE_DUPLICATE,
                                  data={"other_id": str(r.other_id), "distance_m": r.distance_m})
                             for r in links])
    return len(links)


# --- the system: deadlines (限时办理) and escalation (街乡吹哨) ----------------------------------

def escalate_overdue(session: Session, *, now: datetime | None = None, ids: list | None = None,
                     limit: int = 200_000) -> int:
    """Mark every case past its stage's due time overdue (rules.ACTIONS["mark_overdue"]; the
    case.overdue event is written with the mark), and escalate: the supervisors one area level
    above those who own the case are notified, and in the handling stage the department's
    handlers too; at escalation level 2 or more, or on a case handed back twice, the
    notification proposes a whistle (data proposal "whistle": 街乡吹哨, rules.proposes_whistle). Idempotent:
    an overdue case is not marked again until a new stage starts; a case that moved on is not
    touched. Set-based, for sweeps over many thousands of cases. Does not commit; returns the
    count."""
    now = now or clock.now()
    action = rules.ACTIONS["mark_overdue"]
    rows = queries.mark_overdue(session, now=now, statuses=sorted(action.from_statuses),
                                ids=ids, limit=limit)
    if not rows:
        return 0
    # every area's supervisors and every department's handlers in one statement each
    sups: dict = defaultdict(list)
    for r in users.supervisors_by_depth(session, sorted({r["area_code"] for r in rows},
                                                         key=lambda a: a or "")):
        sups[r["area_code"]].append(r)
    handlers = users.handlers_of(session, sorted({
        r["department_code"] for r in rows if r["stage"] == "handle" and r["department_code"]}))
    admin_ids: list[int] | None = None

    def admins() -> list[int]:
        nonlocal admin_ids
        if admin_ids is None:
            admin_ids = users.admins(session)
        return admin_ids

    targets: dict = {}
    events: list[Event] = []
    notices: list[Notice] = []
    for c in rows:
        if c["area_code"] not in targets:
            targets[c["area_code"]] = rules.pick_level(sups.get(c["area_code"], []), "next_up",
                                                       admins)
        who = list(targets[c["area_code"]])
        if c["stage"] == "handle" and c["department_code"]:
            who += handlers.get(c["department_code"], [])
        who = sorted(set(who))
        events.append(Event(report_id=c["id"], action=ev.CASE_ESCALATED, at=now,
                            data={"escalation_level": c["escalation_level"], "notified": who,
                                  "stage": c["stage"]}))
        data = {"number": c["number"], "stage": c["stage"],
                "escalation_level": c["escalation_level"]}
        if rules.proposes_whistle(c):  # 吹哨: the command centre offers the whistle form
            data["proposal"] = "whistle"
        notices.append(Notice(kinds.CASE_OVERDUE, tuple(who), c["id"], data))
    insert_events(session, events)
    add_notices(session, notices)
    return len(rows)


# --- the system: deadlines counted again after the holiday data changed ----------------------

def recompute_deadlines(session: Session, settings: Settings, *, dry_run: bool = False,
                        every: bool = False, batch: int = 200) -> list[dict]:
    """Count the running deadlines of open cases again on the calendar in use (after a holiday
    notice was added: GRIDSNAP_HOLIDAYS_FILE, or a newer holidays library), each from its
    stage's start by its limit and the extensions approved since (actions._recompute_deadline
    says what happens to overdue cases). Only the estimated ones (due_at_guessed_years), or
    `every` running deadline (after a correction of a year that was covered already; note that
    this also applies the current limits of categories and of the hotline).

    Each case whose deadline or estimate changes gets it through the one writer with a
    `case.deadline_recomputed` event and a new deadline check; those whose new deadline has
    passed are then marked overdue. Commits every `batch` cases; `dry_run` writes nothing.
    Returns one dict per changed case: id, number, stage, old_due_at, due_at,
    old_guessed_years, guessed_years, overdue_cleared.
    """
    now = clock.now()
    ids = queries.running_case_ids(session, statuses=rules.OPEN_STATUSES,
                                   only_guessed=not every)
    session.rollback()
    changed: list[dict] = []
    for i in range(0, len(ids), batch):
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
        if dry_run:
            session.rollback()
        else:
            session.commit()
    return changed


# --- reading ----------------------------------------------------------------------------------

def list_notices(session: Session, principal: Principal, *, state: str | None, page: int,
                 page_size: int) -> tuple[list[dict], int]:
    """A page of the notices (督办) on cases the caller may see — a handler's only those to
    their department — newest first, each with whether it is overdue or was replied late."""
    now = clock.now()
    rows, total = queries.list_notice_rows(session, principal, state=state, now=now,
                                           offset=(page - 1) * page_size, limit=page_size)
    return [views.notice_view(r, now) for r in rows], total


def list_events(session: Session, principal: Principal, report_id: uuid.UUID) -> list[dict]:
    """The audit trail of a case the caller may see, oldest first; raises case.not_found."""
    views.get_case_row(session, principal, report_id)
    events = [dict(e) for e in list_for_case(session, report_id)]
    linked = {e["data"][k] for e in events for k in rules.LINK_KEYS
              if isinstance(e["data"], dict) and e["data"].get(k)}
    visible = queries.visible_ids(session, principal, linked)
    for e in events:
        e["data"] = rules.without_hidden_links(e["data"], visible)
    return events
