"""The actions of an extension (延期): asked for by the department, approved (the deadline moves
from the one in force, or from now when it has passed) or refused by a supervisor — for a
hotline case by the hotline centre (cases.rules.EXTENSION_DECISIONS).

The extension is {"amount": 7, "unit": "days"}, or the short form of the time limits
(GRIDSNAP_HOTLINE_TIME_LIMITS) {"limit": "7d"}: d calendar days, wd working days, h hours, wh
working hours."""

from __future__ import annotations

from ...deadlines.rules import TimeLimit, due_at, guessed_years
from ...errors import AppError
from ...notifications import rules as kinds
from ..outcome import ActionContext, Outcome
from .writes import ExtensionDecided, ExtensionRequested


def _request_extension(ctx: ActionContext) -> Outcome:
    ext = ctx.body.get("extension") or {}
    try:
        limit = (TimeLimit.parse(ext["limit"]) if isinstance(ext, dict) and "limit" in ext
                 and len(ext) == 1 else TimeLimit.from_dict(ext))
    except ValueError as exc:
        raise AppError("request.invalid", str(exc), {"extension": [str(exc)]}) from None
    return Outcome(data={"extension": limit.to_dict()}, writes=[ExtensionRequested(limit)],
                   notices=[(kinds.CASE_EXTENSION_REQUESTED, ctx.deciders_of_extensions())])


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


# one row per action of this sub-process (its ACTIONS rows are in cases/rules.py)
APPLY = {"request_extension": _request_extension, "approve_extension": _approve_extension,
         "refuse_extension": _refuse_extension}
