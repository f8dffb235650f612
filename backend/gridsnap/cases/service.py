"""Use cases of the closed loop: act on a case (a person), route new cases and accept or
dispatch them on their own (the system), find possible duplicates; and read a case's trail
and the notices. The sweeps over many cases (overdue, 挂账 back, deadlines counted again)
are sweeps.py.

Every change of a case goes through the one writer, `change.run`: the rules decide (state ×
action × role × scope), the action's function says what changes (actions.py), and
`change.write` applies it in the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy.orm import Session

from .. import clock
from ..db import batch_memo, remember
from ..errors import AppError
from ..events import rules as ev
from ..events.queries import Event, find_by_client_action, insert_events, list_for_case
from ..routing import service as routing
from ..settings import Settings
from ..users import permissions
from ..users import queries as users
from ..users.rules import Principal
from . import change, queries, rules, views
from .joint import queries as joint_queries


def act(session: Session, principal: Principal, report_id: uuid.UUID, body: dict, *,
        settings: Settings, if_match: Collection[int] | None = None) -> dict:
    """Take an action on a case; returns the case as the caller now sees it.

    Raises AppError: case.not_found (missing or out of scope), case.invalid_transition,
    case.action_forbidden, case.precondition_failed (the version is none of `if_match`, the
    versions the caller's If-Match accepts: checked under the case's lock), case.note_required,
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
    permissions.require(principal, permissions.READ_CASE,
                        rules.subject_of(row, principal, report_id))
    if if_match is not None and row["version"] not in if_match:
        raise AppError("case.precondition_failed",
                       "The case changed since you loaded it; reload and try again.",
                       headers={"ETag": f'"{row["version"]}"'})
    changed = change.run(session, principal, row, rules.follow_up_steps(body["action"], body),
                         body, settings=settings, client_action_id=client_action_id)
    # the actor gets the case as it now is, even if the action took it out of their sight
    # (a department returning a case no longer sees it)
    return views.case_views(session, principal, [changed], with_links=True)[0]


def change_case(session: Session, principal: Principal, report_id: uuid.UUID, steps: list[str],
                body: dict, *, settings: Settings) -> dict:
    """Run actions on a case for another feature's use case (the hotline's 即时答复 and 回访),
    by the same rules and the same writer as `act`; returns the case's new read-model row.
    Does not commit. Raises AppError like `act`."""
    row = queries.lock_case(session, report_id)
    permissions.require(principal, permissions.READ_CASE,
                        rules.subject_of(row, principal, report_id))
    return change.run(session, principal, row, steps, body, settings=settings)


def _replayed(session: Session, principal: Principal, row, done, body: dict) -> dict:
    # a replay re-checks visibility: an old id gives nothing to someone who lost sight of it
    if not rules.visible_to(principal, row):
        raise AppError("case.not_found", f"There is no case {row['id']}.")
    action = rules.ACTIONS.get(body["action"])
    if (done["report_id"] != row["id"] or done["actor_id"] != principal.id
            or action is None or done["action"] != action.event):
        raise AppError("case.action_id_conflict",
                       "This client_action_id was used for another action.")
    session.rollback()  # nothing to do: let the lock go
    return views.case_views(session, principal, [queries.find_case_row(session, row["id"])],
                            with_links=True)[0]


def photo_arrived(session: Session, report_id: uuid.UUID) -> None:
    """A photo of the case arrived (uploads.service): the case changed without a new version
    (its ETag stays), and delta syncs (`updated_since`) see it again."""
    queries.touch(session, report_id)


# --- the system: first routing, auto-accept and auto-dispatch --------------------------------

def route_new_cases(session: Session, settings: Settings, report_ids: list[str]) -> int:
    """First routing of new cases, by the system principal. Idempotent: a routed case is left
    alone. Each gets the department the routing rules suggest (rule → category default → the
    area's supervisors), its accept deadline (限时办理) with a scheduled check, and, where its
    category says so, is accepted and dispatched at once. Does not commit; returns the count.
    """
    rows = queries.lock_unrouted(session, report_ids)
    # the routing rules and the areas' supervisors of the whole batch, one statement each
    with batch_memo(session):
        routing.prefetch_routes(session, [(r["category_code"], r["area_code"]) for r in rows])
        areas = sorted({r["area_code"] for r in rows}, key=str)
        found: dict = {a: [] for a in areas}
        for s in users.supervisors_by_depth(session, areas):
            found[s["area_code"]].append(s)
        for area, sups in found.items():
            remember(session, ("users.supervisors_by_depth", area), sups)
        # each case decided alone, the batch written together (one statement for the cases
        # whose change sets the same columns)
        change.run_many(session, rules.SYSTEM, rows, ["route"], settings=settings,
                        next_step=rules.next_automatic_action)
    return len(rows)


# --- the system: possible duplicates ------------------------------------------------------------

def link_duplicates(session: Session, settings: Settings, report_ids: list[str]) -> int:
    """Link each new case to its cluster's primary and the few nearest earlier open cases of
    its category nearby (per-category radius, default 50 m) within the window (default 7
    days), on the trail as one event a case naming its new links: at most NEAREST_LINKS + 1
    links a case, however many share the place. Idempotent. Does not commit; returns the
    links made."""
    return len(queries.link_duplicates(session, report_ids,
                                       window_days=settings.duplicate_window_days))


def link_repeats(session: Session, settings: Settings, report_ids: list[str]) -> int:
    """重复诉求: link each new 12345 request to the few nearest earlier requests of its class at
    its place (GRIDSNAP_REPEAT_REQUEST_RADIUS_M, default 100 m; the same address point is
    distance 0) that are open or closed within GRIDSNAP_REPEAT_REQUEST_DAYS (default 30), each
    link on the trail. Idempotent. Does not commit; returns the links marked."""
    links = queries.link_repeats(session, report_ids,
                                 radius_m=settings.repeat_request_radius_m,
                                 window_days=settings.repeat_request_days)
    insert_events(session, [Event(report_id=r.report_id, action=ev.CASE_REPEAT_REQUEST,
                                  data={"other_id": str(r.other_id), "distance_m": r.distance_m})
                             for r in links])
    return len(links)


def requests_at_place(session: Session, principal: Principal, settings: Settings, *,
                      request_class: str | None, category: str, lon: float, lat: float,
                      limit: int) -> tuple[int, list]:
    """The open or recently closed requests a call of this class at this point would repeat
    (重复诉求, the rule of link_repeats), of those the principal may see, nearest first: (how
    many, the first `limit` ids)."""
    return queries.requests_at_place(
        session, principal, request_class=request_class, category=category, lon=lon, lat=lat,
        radius_m=settings.repeat_request_radius_m, window_days=settings.repeat_request_days,
        now=clock.now(), limit=limit)


# --- reading ----------------------------------------------------------------------------------

def list_notices(session: Session, principal: Principal, *, state: str | None, page: int,
                 page_size: int) -> tuple[list[dict], int]:
    """A page of the notices (督办) on cases the caller may see — a handler's only those to
    their department — newest first, each with whether it is overdue or was replied late."""
    now = clock.now()
    rows, total = joint_queries.list_notice_rows(session, principal, state=state, now=now,
                                           offset=(page - 1) * page_size, limit=page_size)
    return [views.notice_view(r, now) for r in rows], total


def list_events(session: Session, principal: Principal, report_id: uuid.UUID) -> list[dict]:
    """The audit trail of a case the caller may see, oldest first; raises case.not_found."""
    views.get_case_row(session, principal, report_id)
    events = [dict(e) for e in list_for_case(session, report_id)]
    linked = set().union(*(rules.linked_ids(e["data"]) for e in events))
    visible = queries.visible_ids(session, principal, linked)
    for e in events:
        e["data"] = rules.without_hidden_links(e["data"], visible)
    return events
