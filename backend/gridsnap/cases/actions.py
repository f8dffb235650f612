"""What each action of the loop changes: one function per action, taking an ActionContext and
returning an Outcome. They read what they need (routing, the verifier, who to tell) but write
nothing: the one writer applies every outcome the same way (change.write).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta

from ..deadlines.rules import (
    TimeLimit,
    due_at,
    guessed_years,
)
from ..errors import AppError
from ..grid.rules import distance_m
from ..notifications import rules as kinds
from ..routing.service import route_case
from ..users import queries as users
from . import queries, rules
from .callback import actions as callback_actions
from .outcome import (
    ActionContext,
    ExtensionDecided,
    ExtensionRequested,
    FedBack,
    NoticeIssued,
    NoticeReplied,
    Outcome,
    ParticipantsSummoned,
    ReportedIn,
    RequestDecided,
    RequestEnded,
    RequestOpened,
)


def _route(ctx: ActionContext) -> Outcome:
    # the first routing of a new case: a suggestion (精准派单), and the accept stage's deadline
    # counted from when the report was received
    c = ctx.case
    route = route_case(ctx.session, category_code=c["category_code"], area_code=c["area_code"],
                       category_department=c["category_department"])
    changes = {"suggested_department_code": route.department_code,
               "routing_rule_id": route.rule_id, "routing_source": route.source,
               "routed_at": ctx.now, **ctx.enter_stage("accept", c["received_at"])}
    return Outcome(changes, {"suggested_department": route.department_code,
                             "routing_source": route.source, "routing_rule_id": route.rule_id},
                   notices=[(kinds.CASE_REPORTED, ctx.supervisors())])


def _accept(ctx: ActionContext) -> Outcome:
    # 立案 and 派遣 share the accept stage's time limit: the deadline keeps running to dispatch
    changes = {"status": "accepted", "accepted_at": ctx.now}
    if ctx.is_system:  # the category accepts on its own: the supervisors dispatch
        return Outcome(changes, {"auto": True},
                       notices=[(kinds.CASE_TO_DISPATCH, ctx.supervisors())])
    return Outcome(changes, notices=[(kinds.CASE_ACCEPTED, [ctx.case["reporter_id"]])])


def _reject(ctx: ActionContext) -> Outcome:
    return Outcome({"status": "rejected", "closed_at": ctx.now, **ctx.enter_stage(None)},
                   notices=[(kinds.CASE_REJECTED, [ctx.case["reporter_id"]])])


def _merge(ctx: ActionContext) -> Outcome:
    target_id = ctx.body.get("target_case_id")
    if target_id is None:
        raise AppError("case.bad_target", "Name the case to merge into.",
                       {"target_case_id": ["Required."]})
    target_id = uuid.UUID(str(target_id))
    target = queries.lock_case(ctx.session, target_id)
    if (target is None or target_id == ctx.case["id"] or target["status"] == "duplicate"
            or not ctx.principal.covers_area(target["area_code"])):
        raise AppError("case.bad_target",
                       "Merge into another open or closed case of your area that is not "
                       "itself a duplicate.", {"target_case_id": ["Not a case you can merge into."]})
    return Outcome({"status": "duplicate", "duplicate_of": target_id, **ctx.enter_stage(None)},
                   {"target_case_id": str(target_id), "target_number": target["number"]},
                   notices=[(kinds.CASE_MERGED, [ctx.case["reporter_id"]])])


def _unmerge(ctx: ActionContext) -> Outcome:
    primary = queries.find_case_row(ctx.session, ctx.case["duplicate_of"])
    if primary is not None and not rules.visible_to(ctx.principal, primary):
        raise AppError("case.action_forbidden",
                       "Only someone who may see both cases can undo the merge.")
    # back to where it was before the merge
    back = "accepted" if ctx.case["accepted_at"] is not None else "reported"
    return Outcome({"status": back, "duplicate_of": None, **ctx.enter_stage("accept")},
                   {"former_primary": str(ctx.case["duplicate_of"])})


def _dispatch(ctx: ActionContext) -> Outcome:
    c = ctx.case
    department = ctx.body.get("department")
    if ctx.is_system:  # auto-dispatch: to the department the routing suggested
        department, source, rule_id = (c["suggested_department_code"], c["routing_source"],
                                       c["routing_rule_id"])
    elif department:
        source, rule_id = "manual", None
    else:
        route = route_case(ctx.session, category_code=c["category_code"],
                           area_code=c["area_code"], category_department=c["category_department"])
        if route.department_code is None:
            raise AppError("case.invalid_transition",
                           "No rule or category default names a department: choose one.",
                           {"department": ["Required here."]})
        department, source, rule_id = route.department_code, route.source, route.rule_id
    if not ctx.is_system and not users.department_exists(ctx.session, department):
        raise AppError("request.invalid", f"Unknown department {department!r}.",
                       {"department": ["Unknown department code."]})
    changes = {"status": "dispatched", "department_code": department, "dispatched_at": ctx.now,
               "signed_at": None, "signed_by_id": None, **ctx.enter_stage("handle")}
    if c["accepted_at"] is None:
        changes["accepted_at"] = ctx.now
    data = {"routing_source": source, "routing_rule_id": rule_id,
            "suggested": c["suggested_department_code"]}
    if ctx.is_system:
        data["auto"] = True
    return Outcome(changes, data, department=department,
                   notices=[(kinds.CASE_DISPATCHED, ctx.handlers(department))])


def _sign(ctx: ActionContext) -> Outcome:
    changes = {"signed_at": ctx.now, "signed_by_id": ctx.principal.id}
    if ctx.case["responsible_department_code"] is None:
        changes["responsible_department_code"] = ctx.principal.department_code  # 首接负责
    return Outcome(changes)


def _return(ctx: ActionContext) -> Outcome:
    # 退单: the department hands it back before signing; the command centre's clock (the accept
    # stage) runs for the review and the new dispatch
    reason = ctx.body.get("reason") or "other"
    if reason not in rules.RETURN_REASONS:
        raise AppError("request.invalid", f"reason is one of {', '.join(rules.RETURN_REASONS)}.",
                       {"reason": ["Unknown reason."]})
    c = ctx.case
    review = ctx.settings.return_review
    changes = {"status": "returned" if review else "accepted", "department_code": None,
               "return_count": c["return_count"] + 1, **ctx.enter_stage("accept")}
    data = {"reason": reason, "department_code": c["department_code"], "review": review}
    if not review:  # takes effect at once: back in the dispatch queue
        return Outcome(changes, data, department=c["department_code"],
                       notices=[(kinds.CASE_RETURNED, ctx.supervisors())])
    held = c["due_at"] if c["stage"] == "handle" else None
    return Outcome(changes, data, department=c["department_code"],
                   writes=[RequestOpened({"kind": "return", "reason_kind": reason,
                                           "department_code": c["department_code"],
                                           "held_due_at": held})],
                   notices=[(kinds.CASE_RETURN_REVIEW, ctx.supervisors())])


def _approve_return(ctx: ActionContext) -> Outcome:
    # a right return: the dispatch was wrong (派遣准确率); the accept stage's clock runs on
    # until the case is dispatched elsewhere (often the next step of this same change)
    c = ctx.case
    if ctx.body.get("department") and ctx.body["department"] == c["request_department"]:
        raise AppError("request.invalid",
                       "That is the department that returned it: refuse the return instead.",
                       {"department": ["The department that returned it."]})
    return Outcome({"status": "accepted"},
                   {"department_code": c["request_department"],
                    "reason": c["request_reason_kind"]},
                   department=c["request_department"],
                   writes=[RequestDecided(c["request_id"], "approved")])


def _refuse_return(ctx: ActionContext) -> Outcome:
    # a wrong return: back to the same department, under the handling deadline that was
    # running (the clock did not stop for it); a new one only if none was recorded
    c = ctx.case
    department = c["request_department"]
    if department is None:
        raise AppError("case.no_department",
                       "This return does not say which department returned it: approve it "
                       "and dispatch the case instead.")
    due = c["request_held_due_at"] or ctx.due("handle", ctx.now)
    return Outcome({"status": "dispatched", "department_code": department, "signed_at": None,
                    "signed_by_id": None, "stage": "handle",
                    "stage_started_at": c["dispatched_at"] or ctx.now, "due_at": due,
                    "overdue": False, "overdue_at": None},
                   {"department_code": department}, department=department,
                   writes=[RequestDecided(c["request_id"], "refused")],
                   notices=[(kinds.CASE_RETURN_REFUSED, ctx.handlers(department))])


def _review_date(ctx: ActionContext, raw) -> date:
    """The review date of a 挂账 request: after today, at most GRIDSNAP_SUSPENSION_MAX_DAYS
    ahead (dates in the deployment's time zone)."""
    try:
        review_on = raw if isinstance(raw, date) else date.fromisoformat(str(raw))
    except ValueError:
        raise AppError("case.bad_review_date", "review_on is a date, e.g. 2027-03-01.",
                       {"review_on": ["Not a date."]}) from None
    today = rules.local_date(ctx.now, ctx.settings.timezone)
    most = ctx.settings.suspension_max_days
    if review_on <= today:
        raise AppError("case.bad_review_date", f"The review date must be after today ({today}).",
                       {"review_on": ["After today."]})
    if review_on > today + timedelta(days=most):
        raise AppError("case.bad_review_date",
                       f"The review date may be at most {most} days ahead.",
                       {"review_on": [f"At most {most} days ahead."]})
    return review_on


def _request_suspension(ctx: ActionContext) -> Outcome:
    # 挂账/缓办: cannot be solved now (funding, planning, a court); a supervisor decides
    kind = ctx.body.get("reason_kind")
    if kind not in rules.SUSPENSION_REASONS:
        raise AppError("request.invalid",
                       f"reason_kind is one of {', '.join(rules.SUSPENSION_REASONS)}.",
                       {"reason_kind": ["Unknown reason."]})
    if ctx.body.get("review_on") is None:
        raise AppError("case.bad_review_date", "Say when to look at it again (review_on).",
                       {"review_on": ["Required."]})
    review_on = _review_date(ctx, ctx.body["review_on"])
    return Outcome(data={"reason_kind": kind, "review_on": review_on.isoformat()},
                   writes=[RequestOpened({"kind": "suspension", "reason_kind": kind,
                                           "review_on": review_on,
                                           "department_code": ctx.case["department_code"]})],
                   notices=[(kinds.CASE_SUSPENSION_REQUESTED, ctx.supervisors())])


def _approve_suspension(ctx: ActionContext) -> Outcome:
    c = ctx.case
    review_on = c["request_review_on"]
    if review_on <= rules.local_date(ctx.now, ctx.settings.timezone):
        raise AppError("case.bad_review_date",
                       f"The review date asked for ({review_on}) has come: refuse this request "
                       "and let the department ask again.", {"review_on": ["Has come."]})
    # no deadline runs while it is on the long-term list (the overdue sweep passes it by)
    return Outcome({"status": "suspended", **ctx.enter_stage(None)},
                   {"reason_kind": c["request_reason_kind"], "review_on": review_on.isoformat(),
                    "department_code": c["department_code"]},
                   writes=[RequestDecided(c["request_id"], "approved")],
                   notices=[(kinds.CASE_SUSPENSION_APPROVED, [c["request_by"]])])


def _refuse_suspension(ctx: ActionContext) -> Outcome:
    c = ctx.case
    return Outcome(data={"reason_kind": c["request_reason_kind"],
                         "review_on": c["request_review_on"].isoformat()},
                   writes=[RequestDecided(c["request_id"], "refused")],
                   notices=[(kinds.CASE_SUSPENSION_REFUSED, [c["request_by"]])])


def _resume(ctx: ActionContext) -> Outcome:
    # back from the long-term list: to the same department (which signed for it already),
    # under a new handling deadline from now
    c = ctx.case
    return Outcome({"status": "dispatched", **ctx.enter_stage("handle")},
                   {"department_code": c["department_code"],
                    "by": "review_date" if ctx.is_system else "supervisor"},
                   writes=([RequestEnded(c["request_id"])]
                           if c["request_kind"] == "suspension" else []),
                   notices=[(kinds.CASE_RESUMED, ctx.handlers(c["department_code"])
                             if c["department_code"] else ctx.supervisors())])


def _limit(pair: tuple[int, str]) -> TimeLimit:
    return TimeLimit(pair[0], pair[1])


def _bad_departments(message: str, field_name: str, problem: str) -> AppError:
    return AppError("case.bad_departments", message, {field_name: [problem]})


def _whistle(ctx: ActionContext) -> Outcome:
    # 街乡吹哨、部门报到: dispatched to the lead (主办) under a new handling deadline; every
    # summoned department reports in within the report-in limit
    c = ctx.case
    if c["joint_departments"] is not None:
        raise AppError("case.already_joint", "This case is a joint case already.")
    lead = ctx.body.get("lead_department")
    co = list(ctx.body.get("co_departments") or [])
    if not lead:
        raise _bad_departments("Name the lead department (主办).", "lead_department",
                               "Required.")
    if not 1 <= len(co) <= rules.MAX_CO_DEPARTMENTS:
        raise _bad_departments(
            f"Name 1 to {rules.MAX_CO_DEPARTMENTS} co-departments (协办).", "co_departments",
            f"1 to {rules.MAX_CO_DEPARTMENTS} departments.")
    if len(set(co)) != len(co):
        raise _bad_departments("A co-department is named twice.", "co_departments",
                               "Each department once.")
    if lead in co:
        raise _bad_departments("The lead department is not also a co-department.",
                               "co_departments", "The lead is not a co-department.")
    known = users.known_departments(ctx.session, [lead, *co])
    if lead not in known:
        raise _bad_departments(f"Unknown department {lead!r}.", "lead_department",
                               "Unknown department code.")
    unknown = [d for d in co if d not in known]
    if unknown:
        raise _bad_departments(f"Unknown departments: {', '.join(unknown)}.", "co_departments",
                               "Unknown department code.")
    report_due = due_at(ctx.now, _limit(ctx.settings.report_in_limit), ctx.calendar)
    changes = {"status": "dispatched", "department_code": lead, "dispatched_at": ctx.now,
               "signed_at": None, "signed_by_id": None, "joint_departments": [lead, *co],
               **ctx.enter_stage("handle")}
    if c["accepted_at"] is None:
        changes["accepted_at"] = ctx.now
    summon = [{"department_code": d, "role": "lead" if d == lead else "co",
               "summoned_at": ctx.now, "summoned_by_id": ctx.principal.id,
               "report_due_at": report_due} for d in (lead, *co)]
    handlers = users.handlers_of(ctx.session, [lead, *co])
    return Outcome(changes, {"lead": lead, "co": co, "report_due_at": report_due.isoformat()},
                   department=lead, writes=[ParticipantsSummoned(summon)],
                   notices=[(kinds.CASE_WHISTLED, [u for d in (lead, *co)
                                                   for u in handlers[d]])])


def _mine(ctx: ActionContext) -> dict:
    """The caller's department's row of the joint case (the rules checked it is summoned)."""
    return next(p for p in ctx.case["joint_json"]
                if p["department_code"] == ctx.principal.department_code)


def _report_in(ctx: ActionContext) -> Outcome:
    # 报到: late when after the report-in deadline
    dept = ctx.principal.department_code
    due = rules.instant(_mine(ctx)["report_due_at"])
    return Outcome(data={"department_code": dept, "report_due_at": due.isoformat(),
                         "late": ctx.now > due},
                   department=dept, writes=[ReportedIn(dept)])


def _joint_feedback(ctx: ActionContext) -> Outcome:
    # a co-department (协办) tells the lead what it did; the note is the feedback
    dept = ctx.principal.department_code
    return Outcome(data={"department_code": dept}, department=dept,
                   writes=[FedBack(dept)],
                   notices=[(kinds.CASE_JOINT_FEEDBACK,
                             ctx.handlers(ctx.case["department_code"])
                             if ctx.case["department_code"] else [])])


def _issue_notice(ctx: ActionContext) -> Outcome:
    # 督办: to a department of the case (the one it is dispatched to unless named), which
    # replies within the notice reply limit
    c = ctx.case
    dept = ctx.body.get("department") or c["department_code"] or (
        c["responsible_department_code"])
    if not dept:
        raise _bad_departments("The case has no department: name the one to notify.",
                               "department", "Required here.")
    related = {c["department_code"], c["responsible_department_code"],
               *(c["joint_departments"] or ())} - {None}
    if dept not in related:
        raise _bad_departments(
            f"{dept!r} is not a department of this case (dispatched, responsible or "
            f"summoned).", "department", "Not a department of this case.")
    notice_id = uuid.uuid4()
    reply_due = due_at(ctx.now, _limit(ctx.settings.notice_reply_limit), ctx.calendar)
    return Outcome(data={"notice_id": str(notice_id), "department_code": dept,
                         "reply_due_at": reply_due.isoformat()},
                   department=dept, notices=[(kinds.CASE_NOTICE_ISSUED, ctx.handlers(dept))],
                   writes=[NoticeIssued({
                       "id": notice_id, "report_id": c["id"], "department_code": dept,
                       "issued_at": ctx.now, "issued_by_id": ctx.principal.id,
                       "note": ctx.note, "reply_due_at": reply_due})])


def _reply_notice(ctx: ActionContext) -> Outcome:
    # the department's reply to a notice (督办): the note; late when after its reply deadline
    dept = ctx.principal.department_code
    mine = [n for n in ctx.case["notices_json"] or []
            if n["department_code"] == dept and n["replied_at"] is None]
    wanted = ctx.body.get("notice_id")
    notice = next((n for n in mine if wanted is None or n["id"] == str(wanted)), None)
    if notice is None:
        raise AppError("case.notice_not_found", "No open notice to your department with this "
                       "id on this case.", {"notice_id": ["Not an open notice of yours."]})
    due = rules.instant(notice["reply_due_at"])
    return Outcome(data={"notice_id": notice["id"], "department_code": dept,
                         "late": ctx.now > due},
                   department=dept, writes=[NoticeReplied(uuid.UUID(notice["id"]))],
                   notices=[(kinds.CASE_NOTICE_REPLIED, [notice["issued_by_id"]])])


def _request_extension(ctx: ActionContext) -> Outcome:
    ext = ctx.body.get("extension") or {}
    try:
        limit = TimeLimit.from_dict(ext)
    except ValueError as exc:
        raise AppError("request.invalid", str(exc), {"extension": [str(exc)]}) from None
    return Outcome(data={"extension": ext}, writes=[ExtensionRequested(limit)],
                   notices=[(kinds.CASE_EXTENSION_REQUESTED, ctx.supervisors())])


def _approve_extension(ctx: ActionContext) -> Outcome:
    c = ctx.case
    limit = TimeLimit(c["pending_extension_amount"], c["pending_extension_unit"])
    base = max(c["due_at"], ctx.now) if c["due_at"] is not None else ctx.now
    new_due = due_at(base, limit, ctx.calendar)
    # an extension of an estimated deadline is estimated too
    guessed = set(guessed_years(base, new_due, limit, ctx.calendar))
    if base == c["due_at"]:
        guessed.update(c["due_at_guessed_years"] or ())
    return Outcome({"due_at": new_due, "overdue": False, "overdue_at": None, "stage": "handle",
                    "due_at_guessed_years": sorted(guessed) or None},
                   {"extension": {"amount": limit.amount, "unit": limit.unit},
                    "new_due_at": new_due.isoformat()},
                   writes=[ExtensionDecided(c["pending_extension_id"], "approved")],
                   notices=[(kinds.CASE_EXTENSION_APPROVED, [c["pending_extension_by"]])])


def _refuse_extension(ctx: ActionContext) -> Outcome:
    c = ctx.case
    return Outcome(writes=[ExtensionDecided(c["pending_extension_id"], "refused")],
                   notices=[(kinds.CASE_EXTENSION_REFUSED, [c["pending_extension_by"]])])


def _resolve(ctx: ActionContext) -> Outcome:
    verifier = users.choose_verifier(ctx.session, ctx.case["area_code"], [ctx.principal.id])
    who = [verifier] if verifier is not None else ctx.supervisors()
    return Outcome({"status": "resolved", "resolved_at": ctx.now,
                    "resolved_by_id": ctx.principal.id, "verifier_id": verifier,
                    **ctx.enter_stage("verify")}, {"verifier_id": verifier},
                   notices=[(kinds.CASE_VERIFICATION_REQUESTED, who)])


def _verify_pass(ctx: ActionContext) -> Outcome:
    c = ctx.case
    loc = ctx.body.get("location")
    if not loc:
        raise AppError("request.invalid", "Verification needs where you stand.",
                       {"location": ["Required."]})
    dist = distance_m(c["lon"], c["lat"], loc["lon"], loc["lat"])
    limit = ctx.settings.verify_distance_m
    if dist > limit:
        raise AppError("case.too_far",
                       f"You are {dist:.0f} m from the case; verify within {limit} m of it.",
                       {"location": [f"{dist:.0f} m away; at most {limit} m."]})
    more, notices = ctx.closing()
    return Outcome({"status": "closed", "closed_at": ctx.now, **ctx.enter_stage(None), **more},
                   {"distance_m": round(dist, 1), "location": loc}, notices=notices)


def _rework(ctx: ActionContext) -> Outcome:
    c = ctx.case
    data = {}
    loc = ctx.body.get("location")
    if loc:
        data = {"location": loc, "distance_m": round(
            distance_m(c["lon"], c["lat"], loc["lon"], loc["lat"]), 1)}
    return Outcome({"status": "dispatched", "rework_count": c["rework_count"] + 1,
                    "resolved_at": None, "resolved_by_id": None, "verifier_id": None,
                    "dispatched_at": ctx.now, **ctx.enter_stage("handle")}, data,
                   notices=[(kinds.CASE_REWORK, ctx.handlers(c["department_code"]))])


def _close(ctx: ActionContext) -> Outcome:
    more, notices = ctx.closing()
    return Outcome({"status": "closed", "closed_at": ctx.now, **ctx.enter_stage(None), **more},
                   notices=notices)


def _answer(ctx: ActionContext) -> Outcome:
    # 即时答复: the answer is the note; nothing to route, no callback (the caller heard it)
    return Outcome({"status": "closed", "closed_at": ctx.now, "routed_at": ctx.now,
                    **ctx.enter_stage(None)}, {"nature": ctx.case["nature"]})


def _reopen(ctx: ActionContext) -> Outcome:
    # 重新办理: back to the department that handled it, as rework, under a new deadline
    c = ctx.case
    return Outcome({"status": "dispatched", "rework_count": c["rework_count"] + 1,
                    "resolved_at": None, "resolved_by_id": None, "verifier_id": None,
                    "closed_at": None, "callback_status": None, "callback_attempts": 0,
                    "dispatched_at": ctx.now, **ctx.enter_stage("handle")},
                   notices=[(kinds.CASE_REWORK, ctx.handlers(c["department_code"]))
                            if c["department_code"] else (kinds.CASE_RETURNED,
                                                          ctx.supervisors())])


def _recompute_deadline(ctx: ActionContext) -> Outcome:
    # the holiday data changed (a notice added): the running deadline counted again. A case
    # marked overdue whose new deadline is still ahead is overdue no longer (the mark came
    # from a guessed calendar; the escalation stays on record); one whose new deadline has
    # passed stays overdue from when it was marked, and an unmarked one whose new deadline has
    # passed is marked by the sweep (cases.service.recompute_deadlines runs it at once).
    c = ctx.case
    due, guessed = ctx.recomputed_deadline()
    changes: dict = {"due_at": due, "due_at_guessed_years": guessed}
    cleared = bool(c["overdue"]) and due > ctx.now
    if cleared:
        changes.update(overdue=False, overdue_at=None)
    return Outcome(changes, {
        "old_due_at": c["due_at"].isoformat() if c["due_at"] is not None else None,
        "old_guessed_years": c["due_at_guessed_years"] or [], "overdue_cleared": cleared})


APPLY: dict[str, Callable[[ActionContext], Outcome]] = {
    "route": _route, "accept": _accept, "reject": _reject, "merge": _merge,
    "unmerge": _unmerge, "dispatch": _dispatch, "sign": _sign, "return": _return,
    "approve_return": _approve_return, "refuse_return": _refuse_return,
    "request_suspension": _request_suspension, "approve_suspension": _approve_suspension,
    "refuse_suspension": _refuse_suspension, "resume": _resume,
    "request_extension": _request_extension, "approve_extension": _approve_extension,
    "refuse_extension": _refuse_extension, "resolve": _resolve, "verify_pass": _verify_pass,
    "verify_fail": _rework, "close": _close, "rework": _rework, "answer": _answer,
    "reopen": _reopen, "whistle": _whistle, "report_in": _report_in,
    "joint_feedback": _joint_feedback, "issue_notice": _issue_notice,
    "reply_notice": _reply_notice, "recompute_deadline": _recompute_deadline,
    # the sub-processes: each folder's own rows
    **callback_actions.APPLY,
}
