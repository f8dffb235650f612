"""The action of the callback (回访): one try at reaching the caller of a closed hotline case."""

from __future__ import annotations

from ...errors import AppError
from ..outcome import ActionContext, Outcome
from . import rules as callback_rules


def callback(ctx: ActionContext) -> Outcome:
    # 回访: one try; reached, it records 响应 / 解决 / 满意; three tries unanswered: unreachable
    try:
        result = callback_rules.callback_result(ctx.body.get("callback") or {},
                                               ctx.case["callback_attempts"])
    except ValueError as exc:
        raise AppError("request.invalid", str(exc), {"callback": [str(exc)]}) from None
    if not result["reached"]:
        status = "unreachable" if result["unreachable"] else "pending"
    else:
        status = "negative" if callback_rules.calls_for_rework(result) else "done"
    return Outcome({"callback_status": status, "callback_attempts": result["attempt"]}, result)


# one row per action of this sub-process (its ACTIONS row is in cases/rules.py)
APPLY = {"callback": callback}
