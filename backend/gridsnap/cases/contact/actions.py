"""The action of 先行联系: the responsible unit records one try at reaching the caller."""

from __future__ import annotations

from ...deadlines.rules import TimeLimit, due_at
from ...errors import AppError
from ..outcome import ActionContext, Outcome
from . import rules as contact_rules


def record_contact(ctx: ActionContext) -> Outcome:
    # 先行联系: one try (time, outcome); in time when within the contact limit counted from the
    # dispatch to the unit (GRIDSNAP_HOTLINE_CONTACT_LIMIT)
    dispatched_at = ctx.case.get("dispatched_at")
    amount, unit = ctx.settings.hotline_contact_limit
    due = due_at(dispatched_at, TimeLimit(amount, unit), ctx.calendar) if dispatched_at else None
    try:
        data = contact_rules.contact_record(ctx.body.get("contact") or {}, now=ctx.now,
                                            dispatched_at=dispatched_at, due=due)
    except ValueError as exc:
        raise AppError("request.invalid", str(exc), {"contact": [str(exc)]}) from None
    return Outcome({}, data)


# one row per action of this sub-process (its ACTIONS row is in cases/rules.py)
APPLY = {"record_contact": record_contact}
