"""The actions of the requests a supervisor decides: a department returns a case (退单) and a
supervisor approves or refuses the return; a department asks for 挂账, a supervisor approves
or refuses it, and the case resumes on its review date (the system) or earlier (a
supervisor)."""

from __future__ import annotations

from datetime import date, timedelta

from ...errors import AppError
from ...notifications import rules as kinds
from .. import rules
from ..outcome import ActionContext, Outcome
from .writes import RequestDecided, RequestEnded, RequestOpened


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


# one row per action of this sub-process (its ACTIONS rows are in cases/rules.py)
APPLY = {"return": _return, "approve_return": _approve_return, "refuse_return": _refuse_return,
         "request_suspension": _request_suspension,
         "approve_suspension": _approve_suspension,
         "refuse_suspension": _refuse_suspension, "resume": _resume}
