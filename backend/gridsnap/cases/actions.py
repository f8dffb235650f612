"""What each action of the loop changes: one function per action, taking an ActionContext and
returning an Outcome. They read what they need (routing, the verifier, who to tell) but write
nothing: the one writer applies every outcome the same way (change.write).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from ..errors import AppError
from ..grid.rules import distance_m
from ..notifications import rules as kinds
from ..routing.service import route_case
from ..users import queries as users
from . import queries, rules
from .callback import actions as callback_actions
from .contact import actions as contact_actions
from .exclusion import actions as exclusion_actions
from .extension import actions as extension_actions
from .joint import actions as joint_actions
from .outcome import (
    ActionContext,
    Outcome,
)
from .review import actions as review_actions


def _route(ctx: ActionContext) -> Outcome:
    # the first routing of a new case: a suggestion (精准派单), and the accept stage's deadline
    # counted from when the report was received
    c = ctx.case
    route = route_case(ctx.session, category_code=c["category_code"], area_code=c["area_code"],
                       category_department=c["category_department"],
                       request_class=c["request_class_code"])
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
    # a 12345 request rejected is the centre's answer: called back and rated like any other
    # (to take it out of the rates: an exclusion, 不合理诉求, decided on the record)
    more, notices = ctx.callback_due()
    return Outcome({"status": "rejected", "closed_at": ctx.now, **ctx.enter_stage(None), **more},
                   notices=[(kinds.CASE_REJECTED, [ctx.case["reporter_id"]]), *notices])


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
                           area_code=c["area_code"], category_department=c["category_department"],
                           request_class=c["request_class_code"])
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
    # passed is marked by the sweep (cases.sweeps.recompute_deadlines runs it at once).
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
    "unmerge": _unmerge, "dispatch": _dispatch, "sign": _sign, "resolve": _resolve,
    "verify_pass": _verify_pass, "verify_fail": _rework, "close": _close, "rework": _rework,
    "answer": _answer, "reopen": _reopen, "recompute_deadline": _recompute_deadline,
    # the sub-processes: each folder's own rows
    **review_actions.APPLY, **extension_actions.APPLY, **joint_actions.APPLY,
    **callback_actions.APPLY, **contact_actions.APPLY, **exclusion_actions.APPLY,
}
