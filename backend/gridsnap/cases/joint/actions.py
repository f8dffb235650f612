"""The actions of a joint case (街乡吹哨、部门报到: whistle, report in, feed back) and of the
supervision notices (督办: issue, reply)."""

from __future__ import annotations

import uuid

from ...deadlines.rules import TimeLimit, due_at
from ...errors import AppError
from ...notifications import rules as kinds
from ...users import queries as users
from .. import rules
from ..outcome import ActionContext, Outcome
from .writes import FedBack, NoticeIssued, NoticeReplied, ParticipantsSummoned, ReportedIn


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
    handlers = users.handlers_covering(ctx.session, [(d, c["area_code"]) for d in (lead, *co)])
    return Outcome(changes, {"lead": lead, "co": co, "report_due_at": report_due.isoformat()},
                   department=lead, writes=[ParticipantsSummoned(summon)],
                   notices=[(kinds.CASE_WHISTLED, [u for d in (lead, *co)
                                                   for u in handlers[(d, c["area_code"])]])])


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
    ground = rules.notice_ground(c, ctx.body.get("ground"))
    if ground is None:
        raise AppError("case.notice_ground_required",
                       f"A notice (督办) on a case neither overdue nor handed back or reworked "
                       f"{rules.REPEATED} times names its ground: "
                       f"{', '.join(rules.NOTICE_GROUNDS)}.",
                       {"ground": ["Required on this case."]})
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
                         "reply_due_at": reply_due.isoformat(), "ground": ground},
                   department=dept, notices=[(kinds.CASE_NOTICE_ISSUED, ctx.handlers(dept))],
                   writes=[NoticeIssued({
                       "id": notice_id, "report_id": c["id"], "department_code": dept,
                       "issued_at": ctx.now, "issued_by_id": ctx.principal.id,
                       "note": ctx.note, "ground": ground, "reply_due_at": reply_due})])


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


# one row per action of this sub-process (its ACTIONS rows are in cases/rules.py)
APPLY = {"whistle": _whistle, "report_in": _report_in, "joint_feedback": _joint_feedback,
         "issue_notice": _issue_notice, "reply_notice": _reply_notice}
