"""What each action of the loop changes: one function per action, taking an ActionContext and
returning an Outcome. They read what they need (routing, the verifier, who to tell) but write
nothing: the case service writes every outcome the same way (service._write).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy.orm import Session

from ..deadlines.rules import TimeLimit, WorkCalendar, calendar_for, due_at, guessed_years
from ..errors import AppError
from ..events import queries as event_queries
from ..hotline import rules as hotline_rules
from ..notifications import rules as kinds
from ..photos.imaging import distance_m
from ..routing.service import route_case
from ..settings import Settings
from ..users import queries as users
from ..users.rules import Principal
from . import queries, rules


@dataclass
class ActionContext:
    """One action on one case: who, the locked case as it stands (after earlier steps of the
    same change), what was sent, when, and the deployment's settings."""

    session: Session
    principal: Principal
    case: dict
    body: dict
    note: str | None
    now: datetime
    settings: Settings

    @property
    def is_system(self) -> bool:
        return self.principal.role == rules.SYSTEM_ROLE

    @cached_property
    def calendar(self) -> WorkCalendar:
        s = self.settings
        return calendar_for(s.timezone, s.business_hours, s.holidays_file)

    def limit(self, stage: str) -> TimeLimit:
        """The time limit of `stage`: the category's; a hotline case is handled within the
        hotline's limit for its urgency (接诉即办)."""
        if stage == "handle" and self.case.get("urgency"):
            return hotline_rules.hotline_limit(self.settings.hotline_time_limits,
                                               self.case["urgency"])
        return TimeLimit.from_dict(self.case["time_limits"][stage])

    def due(self, stage: str, start: datetime) -> datetime:
        """When `stage` falls due if it starts at `start`."""
        return due_at(start, self.limit(stage), self.calendar)

    def deadline(self, stage: str, start: datetime) -> tuple[datetime, list[int] | None]:
        """When `stage` falls due if it starts at `start`, and the years without a holiday
        notice that deadline was counted over (None: none, it is not an estimate)."""
        limit = self.limit(stage)
        due = due_at(start, limit, self.calendar)
        return due, list(guessed_years(start, due, limit, self.calendar)) or None

    def enter_stage(self, stage: str | None, start: datetime | None = None) -> dict:
        """The changes of a new stage starting: its deadline, and no longer overdue (an
        escalation stays on record). None: the case has ended, no deadline runs."""
        start = start or self.now
        due, guessed = self.deadline(stage, start) if stage else (None, None)
        return {"stage": stage, "stage_started_at": start if stage else None, "overdue": False,
                "overdue_at": None, "due_at": due, "due_at_guessed_years": guessed}

    def recomputed_deadline(self) -> tuple[datetime, list[int] | None]:
        """The running stage's deadline counted again on the calendar in use: from the stage's
        start by its limit, then each extension (延期) approved since, in order, as approving it
        did — from the deadline then in force, or from the approval when that had passed."""
        c = self.case
        due, guessed = self.deadline(c["stage"], c["stage_started_at"])
        years = set(guessed or ())
        for approved_at, limit in rules.extensions_of_stage(
                event_queries.deadline_events(self.session, c["id"])):
            base = max(due, approved_at)
            if base != due:  # the extension ran from its approval: earlier guesses don't count
                years = set()
            due = due_at(base, limit, self.calendar)
            years.update(guessed_years(base, due, limit, self.calendar))
        return due, sorted(years) or None

    def supervisors(self, level: str = "owner") -> list[int]:
        """The supervisors closest to the case ("owner") or the level above ("next_up")."""
        rows = users.supervisors_by_depth(self.session, [self.case["area_code"]])
        return rules.pick_level(rows, level, lambda: users.admins(self.session))

    def handlers(self, department_code: str) -> list[int]:
        return users.handlers_of(self.session, [department_code])[department_code]

    def closing(self) -> tuple[dict, list[tuple[str, list[int]]]]:
        """The changes and notices of a case closing: a hotline case waits for its callback
        (回访) by the call-takers; the reporter hears it closed."""
        notices = [(kinds.CASE_CLOSED, [self.case["reporter_id"]])]
        if self.case["source"] != "hotline":
            return {}, notices
        return ({"callback_status": "pending", "callback_attempts": 0},
                notices + [(kinds.CASE_CALLBACK_DUE, users.call_takers(self.session))])


@dataclass
class ExtensionWrite:
    """A change to the extension requests that goes with the action."""

    request: TimeLimit | None = None  # a new request, with the note as its reason
    decide: tuple[int, str] | None = None  # (request id, "approved" | "refused")


@dataclass
class Outcome:
    """What an action changes: case columns, the event's data and department, who is told."""

    changes: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    department: str | None = None  # the event's department; None: the case's
    notices: list[tuple[str, list[int]]] = field(default_factory=list)
    extension: ExtensionWrite | None = None


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
    reason = ctx.body.get("reason") or "other"
    if reason not in rules.RETURN_REASONS:
        raise AppError("request.invalid", f"reason is one of {', '.join(rules.RETURN_REASONS)}.",
                       {"reason": ["Unknown reason."]})
    c = ctx.case
    return Outcome({"status": "returned", "department_code": None,
                    "return_count": c["return_count"] + 1, **ctx.enter_stage("accept")},
                   {"reason": reason}, department=c["department_code"],
                   notices=[(kinds.CASE_RETURNED, ctx.supervisors())])


def _request_extension(ctx: ActionContext) -> Outcome:
    ext = ctx.body.get("extension") or {}
    try:
        limit = TimeLimit.from_dict(ext)
    except ValueError as exc:
        raise AppError("request.invalid", str(exc), {"extension": [str(exc)]}) from None
    return Outcome(data={"extension": ext}, extension=ExtensionWrite(request=limit),
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
                   extension=ExtensionWrite(decide=(c["pending_extension_id"], "approved")),
                   notices=[(kinds.CASE_EXTENSION_APPROVED, [c["pending_extension_by"]])])


def _refuse_extension(ctx: ActionContext) -> Outcome:
    c = ctx.case
    return Outcome(extension=ExtensionWrite(decide=(c["pending_extension_id"], "refused")),
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


def _callback(ctx: ActionContext) -> Outcome:
    # 回访: one try; reached, it records 响应 / 解决 / 满意; three tries unanswered: unreachable
    try:
        result = hotline_rules.callback_result(ctx.body.get("callback") or {},
                                               ctx.case["callback_attempts"])
    except ValueError as exc:
        raise AppError("request.invalid", str(exc), {"callback": [str(exc)]}) from None
    if not result["reached"]:
        status = "unreachable" if result["unreachable"] else "pending"
    else:
        status = "negative" if hotline_rules.calls_for_rework(result) else "done"
    return Outcome({"callback_status": status, "callback_attempts": result["attempt"]}, result)


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
    "request_extension": _request_extension, "approve_extension": _approve_extension,
    "refuse_extension": _refuse_extension, "resolve": _resolve, "verify_pass": _verify_pass,
    "verify_fail": _rework, "close": _close, "rework": _rework, "answer": _answer,
    "callback": _callback, "reopen": _reopen, "recompute_deadline": _recompute_deadline,
}
