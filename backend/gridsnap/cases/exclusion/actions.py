"""The actions of exclusions (不合理诉求: 申请剔除) and appeals (申诉 → 核减): asked for by the
unit the request was dispatched to, decided by the centre. An approved exclusion takes the
request out of the three rates, an approved appeal its rated result (docs/indicators.md); the
request, its trail and the decision stay."""

from __future__ import annotations

from ...errors import AppError
from ...notifications import rules as kinds
from ..outcome import ActionContext, Outcome
from . import rules as exclusion_rules
from .writes import ExclusionDecided, ExclusionRequested


def _asked(kind: str):
    def apply(ctx: ActionContext) -> Outcome:
        body = ctx.body.get(kind) or {}
        reason_kind = body.get("reason_kind")
        problem = exclusion_rules.reason_problem(kind, reason_kind)
        if problem:
            raise AppError("request.invalid", problem, {kind: [problem]})
        return Outcome(data={"kind": kind, "reason_kind": reason_kind},
                       writes=[ExclusionRequested(kind, reason_kind, ctx.case["department_code"])],
                       notices=[(kinds.CASE_EXCLUSION_REQUESTED, ctx.supervisors())])
    return apply


def _decided(status: str):
    def apply(ctx: ActionContext) -> Outcome:
        x = ctx.case["exclusion_json"]
        return Outcome(data={"exclusion_id": x["id"], "kind": x["kind"],
                             "reason_kind": x["reason_kind"], "decision": status},
                       writes=[ExclusionDecided(x["id"], status)],
                       notices=[(kinds.CASE_EXCLUSION_DECIDED, [x["requested_by_id"]])])
    return apply


# one row per action of this sub-process (its ACTIONS rows are in cases/rules.py)
APPLY = {"request_exclusion": _asked("exclusion"), "approve_exclusion": _decided("approved"),
         "refuse_exclusion": _decided("refused"), "appeal": _asked("appeal"),
         "approve_appeal": _decided("approved"), "refuse_appeal": _decided("refused")}
