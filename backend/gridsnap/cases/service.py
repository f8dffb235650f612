"""Use cases of the closed loop: act on a case, read it with what the caller may do, its trail.

Every action is one transaction: the case row is locked, the rules decide, the row changes
(its version bumps), one audit event is written, the people who must act are notified, and
follow-up (the deadline check at the new due time) goes to the outbox.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from .. import clock
from ..deadlines.rules import TimeLimit, due_at
from ..errors import AppError
from ..photos.imaging import distance_m
from ..reports.jobs import work_calendar
from ..reports.service import get_visible_row, report_view
from ..settings import Settings
from ..users.queries import department_exists
from ..users.rules import Principal
from . import queries, rules


def _facts(row, principal: Principal, pending_ext) -> rules.CaseFacts:
    return rules.CaseFacts(
        status=row["status"], department_code=row["department_code"],
        signed=row["signed_at"] is not None and row["status"] == "dispatched",
        pending_extension=pending_ext is not None, verifier_id=row["verifier_id"],
        resolved_by_id=row["resolved_by_id"], covers_case=principal.covers_area(row["area_code"]))


def stage_due(row, stage: str, start: datetime, settings: Settings) -> datetime:
    limit = TimeLimit.from_dict(row["time_limits"][stage])
    return due_at(start, limit, work_calendar(settings))


def _enter_stage(changes: dict, row, stage: str | None, now: datetime,
                 settings: Settings) -> None:
    """A new stage starts: its deadline, and no longer overdue (escalation stays on record)."""
    changes["stage"] = stage
    changes["stage_started_at"] = now if stage else None
    changes["overdue"] = False
    changes["overdue_at"] = None
    changes["due_at"] = stage_due(row, stage, now, settings) if stage else None


def supervisors_to_notify(session: Session, area_code: str | None,
                          level: str = "owner") -> list[int]:
    """The supervisors closest to the case ("owner"), or the level above them ("next_up",
    街乡吹哨); the admins when there is no such level."""
    rows = queries.supervisors_by_depth(session, area_code)
    return pick_level(rows, level, lambda: queries.admins(session))


def pick_level(rows, level: str, admins) -> list[int]:
    """From (id, depth) rows of the supervisors covering one area, those of the level asked."""
    depths = sorted({r["depth"] for r in rows}, reverse=True)
    if not depths:
        return admins()
    if level == "owner":
        return [r["id"] for r in rows if r["depth"] == depths[0]]
    if len(depths) < 2:
        return [r["id"] for r in rows if r["depth"] == depths[0]] + admins()
    return [r["id"] for r in rows if r["depth"] == depths[1]]


def _schedule_deadline_check(session: Session, report_id, changes: dict) -> None:
    if changes.get("due_at") is not None:
        queries.add_outbox(session, "case.deadline", {
            "report_id": str(report_id), "stage": changes["stage"],
            "due_at": changes["due_at"].isoformat()}, available_at=changes["due_at"])


def act(session: Session, principal: Principal, report_id: uuid.UUID, body: dict, *,
        settings: Settings, if_match: int | None = None) -> dict:
    """Take an action on a case; returns the case as the caller now sees it.

    Raises AppError: case.not_found (missing or out of scope), case.invalid_transition,
    case.action_forbidden, case.precondition_failed (If-Match is stale), case.note_required,
    case.photo_required, case.too_far, case.bad_target, case.action_id_conflict.
    An action sent again with the same client_action_id is answered with the case as it is,
    without acting twice (a phone replaying its offline queue).
    """
    client_action_id = body.get("client_action_id")
    if client_action_id is not None:
        done = queries.find_event_by_client_action(session, client_action_id)
        if done is not None:
            if done["actor_id"] != principal.id:
                get_case_row(session, principal, report_id)  # outside scope: 404 as if missing
            if (done["report_id"] != report_id or done["actor_id"] != principal.id
                    or done["action"] != f"case.{_PAST.get(body['action'])}"):
                raise AppError("case.action_id_conflict",
                               "This client_action_id was used for another action.")
            return _view_of(session, principal, report_id)
    row = queries.lock_case(session, report_id)
    if row is None or not principal.may_see_report(
            reporter_id=row["reporter_id"], area_code=row["area_code"],
            department_code=row["department_code"],
            responsible_department_code=row["responsible_department_code"]):
        raise AppError("case.not_found", f"There is no case {report_id}.")
    if if_match is not None and if_match != row["version"]:
        raise AppError("case.precondition_failed",
                       "The case changed since you loaded it; reload and try again.",
                       headers={"ETag": f'"{row["version"]}"'})
    pending = queries.pending_extension(session, report_id)
    try:
        action = rules.check_action(body["action"], principal, _facts(row, principal, pending))
    except rules.TransitionError as exc:
        raise AppError(exc.code, exc.message) from None
    note = (body.get("note") or "").strip() or None
    if action.needs_note and not note:
        raise AppError("case.note_required", f"Say why ({action.name} needs a note).",
                       {"note": ["Required for this action."]})
    photo_ids = [uuid.UUID(str(p)) for p in body.get("photo_ids") or []]
    if action.needs_photo:
        _check_photos(session, report_id, principal, photo_ids, action.name)
    now = clock.now()
    handler = _APPLY[action.name]
    changes: dict = {}
    event: dict = {"data": {}}
    notify: list[tuple[list[int], str]] = []
    handler(session, principal, row, body, note, now, settings, changes, event, notify, pending)
    if "due_at" in changes:
        # the trail records every deadline an action starts or moves, so the evaluation
        # (综合评价) can tell from the trail alone whether a deadline had come by a given time
        due = changes["due_at"]
        event["data"].update(stage=changes.get("stage", row["stage"]),
                             due_at=due.isoformat() if due is not None else None)
    to_status = changes.get("status", row["status"])
    queries.update_case(session, report_id, changes)
    if photo_ids:
        event["data"]["photo_ids"] = [str(p) for p in photo_ids]
    queries.insert_event(session, report_id=report_id, actor_id=principal.id,
                         action=f"case.{_PAST[action.name]}", from_status=row["status"],
                         to_status=to_status, note=note,
                         department_code=event.get("department", row["department_code"]),
                         client_action_id=client_action_id, data=event["data"], at=now)
    for user_ids, kind in notify:
        queries.notify(session, [u for u in user_ids if u != principal.id], report_id, kind,
                       {"number": row["number"], "action": action.name, "by": principal.id})
    _schedule_deadline_check(session, report_id, changes)
    session.commit()
    # the actor gets the case as it now is, even if the action took it out of their sight
    # (a department returning a case no longer sees it)
    return _view_of(session, principal, report_id)


def _view_of(session: Session, principal: Principal, report_id: uuid.UUID) -> dict:
    from ..reports.queries import find_report_row
    from ..reports.service import _photos_by_report

    view = case_view(session, principal, find_report_row(session, report_id))
    view["photos"] = _photos_by_report(session, [report_id])[report_id]
    return view


_PAST = {"accept": "accepted", "reject": "rejected", "merge": "merged", "unmerge": "unmerged",
         "dispatch": "dispatched", "sign": "signed", "return": "returned",
         "request_extension": "extension_requested", "approve_extension": "extension_approved",
         "refuse_extension": "extension_refused", "resolve": "resolved",
         "verify_pass": "verified", "verify_fail": "rework_ordered", "close": "closed",
         "rework": "rework_ordered"}


def _check_photos(session, report_id, principal, photo_ids, action_name) -> None:
    purpose = "resolution" if action_name == "resolve" else "verification"
    if not photo_ids:
        raise AppError("case.photo_required",
                       f"{action_name} needs at least one photo (uploaded with "
                       f"?purpose={purpose}).", {"photo_ids": ["At least one photo."]})
    found = {p["id"]: p for p in queries.case_photos(session, report_id, photo_ids)}
    bad = [str(p) for p in photo_ids
           if p not in found or found[p]["purpose"] != purpose
           or found[p]["uploader_id"] != principal.id]
    if bad:
        raise AppError("case.photo_required",
                       f"These are not your {purpose} photos of this case (upload them first): "
                       f"{', '.join(bad)}.", {"photo_ids": ["Unknown or not yours."]})


# --- one function per action: fill `changes`, `event`, `notify` --------------------------

def _accept(session, p, row, body, note, now, settings, changes, event, notify, pending):
    # 立案 and 派遣 share the accept stage's time limit: the deadline keeps running to dispatch
    changes.update(status="accepted", accepted_at=now)
    notify.append(([row["reporter_id"]], "case.accepted"))


def _reject(session, p, row, body, note, now, settings, changes, event, notify, pending):
    changes.update(status="rejected", closed_at=now)
    _enter_stage(changes, row, None, now, settings)
    notify.append(([row["reporter_id"]], "case.rejected"))


def _merge(session, p, row, body, note, now, settings, changes, event, notify, pending):
    target_id = body.get("target_case_id")
    if target_id is None:
        raise AppError("case.bad_target", "Name the case to merge into.",
                       {"target_case_id": ["Required."]})
    target_id = uuid.UUID(str(target_id))
    target = queries.lock_case(session, target_id)
    if (target is None or target_id == row["id"] or target["status"] == "duplicate"
            or not p.covers_area(target["area_code"])):
        raise AppError("case.bad_target",
                       "Merge into another open or closed case of your area that is not "
                       "itself a duplicate.", {"target_case_id": ["Not a case you can merge into."]})
    changes.update(status="duplicate", duplicate_of=target_id)
    _enter_stage(changes, row, None, now, settings)
    event["data"].update(target_case_id=str(target_id), target_number=target["number"])
    notify.append(([row["reporter_id"]], "case.merged"))


def _unmerge(session, p, row, body, note, now, settings, changes, event, notify, pending):
    # back to where it was before the merge
    back = "accepted" if row["accepted_at"] is not None else "reported"
    changes.update(status=back, duplicate_of=None)
    _enter_stage(changes, row, "accept", now, settings)
    event["data"].update(former_primary=str(row["duplicate_of"]))


def _dispatch(session, p, row, body, note, now, settings, changes, event, notify, pending):
    from ..routing.service import route_case

    department = body.get("department")
    if department:
        source, rule_id = "manual", None
    else:
        route = route_case(session, category_code=row["category_code"],
                           area_code=row["area_code"],
                           category_department=row["category_department"])
        if route.department_code is None:
            raise AppError("case.invalid_transition",
                           "No rule or category default names a department: choose one.",
                           {"department": ["Required here."]})
        department, source, rule_id = route.department_code, route.source, route.rule_id
    if not department_exists(session, department):
        raise AppError("request.invalid", f"Unknown department {department!r}.",
                       {"department": ["Unknown department code."]})
    changes.update(status="dispatched", department_code=department, dispatched_at=now,
                   signed_at=None, signed_by_id=None)
    if row["accepted_at"] is None:
        changes["accepted_at"] = now
    _enter_stage(changes, row, "handle", now, settings)
    event["department"] = department
    event["data"].update(routing_source=source, routing_rule_id=rule_id,
                         suggested=row["suggested_department_code"])
    notify.append((queries.handlers_of(session, department), "case.dispatched"))


def _sign(session, p, row, body, note, now, settings, changes, event, notify, pending):
    changes.update(signed_at=now, signed_by_id=p.id)
    if row["responsible_department_code"] is None:
        changes["responsible_department_code"] = p.department_code  # 首接负责


def _return(session, p, row, body, note, now, settings, changes, event, notify, pending):
    reason = body.get("reason") or "other"
    if reason not in rules.RETURN_REASONS:
        raise AppError("request.invalid", f"reason is one of {', '.join(rules.RETURN_REASONS)}.",
                       {"reason": ["Unknown reason."]})
    changes.update(status="returned", department_code=None, return_count=row["return_count"] + 1)
    _enter_stage(changes, row, "accept", now, settings)
    event["department"] = row["department_code"]
    event["data"].update(reason=reason)
    notify.append((supervisors_to_notify(session, row["area_code"]), "case.returned"))


def _request_extension(session, p, row, body, note, now, settings, changes, event, notify,
                       pending):
    ext = body.get("extension") or {}
    try:
        limit = TimeLimit.from_dict(ext)
    except ValueError as exc:
        raise AppError("request.invalid", str(exc), {"extension": [str(exc)]}) from None
    queries.insert_extension(session, row["id"], p.id, limit.amount, limit.unit, note)
    event["data"].update(extension=ext)
    notify.append((supervisors_to_notify(session, row["area_code"]), "case.extension_requested"))


def _approve_extension(session, p, row, body, note, now, settings, changes, event, notify,
                       pending):
    queries.decide_extension(session, pending["id"], "approved", p.id, note)
    limit = TimeLimit(pending["amount"], pending["unit"])
    base = max(row["due_at"], now) if row["due_at"] is not None else now
    changes.update(due_at=due_at(base, limit, work_calendar(settings)), overdue=False,
                   overdue_at=None, stage="handle")
    event["data"].update(extension={"amount": limit.amount, "unit": limit.unit},
                         new_due_at=changes["due_at"].isoformat())
    notify.append(([pending["requested_by_id"]], "case.extension_approved"))


def _refuse_extension(session, p, row, body, note, now, settings, changes, event, notify,
                      pending):
    queries.decide_extension(session, pending["id"], "refused", p.id, note)
    notify.append(([pending["requested_by_id"]], "case.extension_refused"))


def _resolve(session, p, row, body, note, now, settings, changes, event, notify, pending):
    verifier = queries.choose_verifier(session, row["area_code"], [p.id])
    changes.update(status="resolved", resolved_at=now, resolved_by_id=p.id,
                   verifier_id=verifier)
    _enter_stage(changes, row, "verify", now, settings)
    event["data"].update(verifier_id=verifier)
    if verifier is not None:
        notify.append(([verifier], "case.verification_requested"))
    else:
        notify.append((supervisors_to_notify(session, row["area_code"]),
                       "case.verification_requested"))


def _verify_pass(session, p, row, body, note, now, settings, changes, event, notify, pending):
    loc = body.get("location")
    if not loc:
        raise AppError("request.invalid", "Verification needs where you stand.",
                       {"location": ["Required."]})
    dist = distance_m(row["lon"], row["lat"], loc["lon"], loc["lat"])
    limit = settings.verify_distance_m
    event["data"].update(distance_m=round(dist, 1), location=loc)
    if dist > limit:
        raise AppError("case.too_far",
                       f"You are {dist:.0f} m from the case; verify within {limit} m of it.",
                       {"location": [f"{dist:.0f} m away; at most {limit} m."]})
    changes.update(status="closed", closed_at=now)
    _enter_stage(changes, row, None, now, settings)
    notify.append(([row["reporter_id"]], "case.closed"))


def _rework(session, p, row, body, note, now, settings, changes, event, notify, pending):
    loc = body.get("location")
    if loc:
        event["data"].update(location=loc, distance_m=round(
            distance_m(row["lon"], row["lat"], loc["lon"], loc["lat"]), 1))
    changes.update(status="dispatched", rework_count=row["rework_count"] + 1, resolved_at=None,
                   resolved_by_id=None, verifier_id=None, dispatched_at=now)
    _enter_stage(changes, row, "handle", now, settings)
    notify.append((queries.handlers_of(session, row["department_code"]), "case.rework"))


def _close(session, p, row, body, note, now, settings, changes, event, notify, pending):
    changes.update(status="closed", closed_at=now)
    _enter_stage(changes, row, None, now, settings)
    notify.append(([row["reporter_id"]], "case.closed"))


_APPLY = {"accept": _accept, "reject": _reject, "merge": _merge, "unmerge": _unmerge,
          "dispatch": _dispatch, "sign": _sign, "return": _return,
          "request_extension": _request_extension, "approve_extension": _approve_extension,
          "refuse_extension": _refuse_extension, "resolve": _resolve,
          "verify_pass": _verify_pass, "verify_fail": _rework, "close": _close,
          "rework": _rework}


# --- reading --------------------------------------------------------------------------------

def case_view(session: Session, principal: Principal, row, *, with_links: bool = True) -> dict:
    view = report_view(row)
    pending = queries.pending_extension(session, row["id"])
    view.update(
        stage=row["stage"], stage_started_at=row["stage_started_at"], overdue=row["overdue"],
        overdue_at=row["overdue_at"], escalation_level=row["escalation_level"],
        version=row["version"], suggested_department=row["suggested_department_code"],
        routing_source=row["routing_source"], routing_rule_id=row["routing_rule_id"],
        responsible_department=row["responsible_department_code"],
        accepted_at=row["accepted_at"], dispatched_at=row["dispatched_at"],
        signed_at=row["signed_at"], resolved_at=row["resolved_at"],
        closed_at=row["closed_at"], verifier_id=row["verifier_id"],
        rework_count=row["rework_count"], return_count=row["return_count"],
        duplicate_of=row["duplicate_of"],
        pending_extension=None if pending is None else {
            "amount": pending["amount"], "unit": pending["unit"], "reason": pending["reason"],
            "requested_at": pending["created_at"]},
        allowed_actions=rules.allowed_actions(principal, _facts(row, principal, pending)),
    )
    if with_links:
        view["possible_duplicates"] = [dict(d) for d in queries.possible_duplicates(
            session, row["id"], principal)]
        view["duplicates"] = [dict(d) for d in queries.duplicates_of(
            session, row["id"], principal)]
        if row["duplicate_of"] is not None:
            # a duplicate follows its primary case
            view["outcome"] = queries.status_of(session, row["duplicate_of"])
        else:
            view["outcome"] = row["status"]
    return view


def get_case(session: Session, principal: Principal, report_id: uuid.UUID, *,
             settings: Settings | None = None) -> dict:
    """The case with its photos, links and the actions the caller may take; 404 outside scope."""
    from ..reports.service import _photos_by_report

    try:
        row = get_visible_row(session, principal, report_id)
    except AppError:
        raise AppError("case.not_found", f"There is no case {report_id}.") from None
    view = case_view(session, principal, row)
    view["photos"] = _photos_by_report(session, [report_id])[report_id]
    return view


def list_events(session: Session, principal: Principal, report_id: uuid.UUID) -> list[dict]:
    """The audit trail of a case the caller may see, oldest first."""
    get_case_row(session, principal, report_id)
    return [dict(e) for e in queries.list_events(session, report_id)]


def get_case_row(session: Session, principal: Principal, report_id: uuid.UUID):
    try:
        return get_visible_row(session, principal, report_id)
    except AppError:
        raise AppError("case.not_found", f"There is no case {report_id}.") from None


def list_cases(session: Session, principal: Principal, *, page: int, page_size: int,
               **filters) -> tuple[list[dict], int]:
    """A page of the cases the caller may see, each with the actions the caller may take."""
    from ..reports.queries import list_report_rows
    from ..reports.service import _photos_by_report

    rows, total = list_report_rows(session, principal, offset=(page - 1) * page_size,
                                   limit=page_size, **filters)
    views = [case_view(session, principal, r, with_links=False) for r in rows]
    photos = _photos_by_report(session, [v["id"] for v in views]) if views else {}
    for v in views:
        v["photos"] = photos.get(v["id"], [])
    return views, total
