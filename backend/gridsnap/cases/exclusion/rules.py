"""Pure decisions of exclusions (不合理诉求) and appeals (申诉)."""

from __future__ import annotations

# why a unit asks for a request to leave the rates: 不合理诉求 (unreasonable: the caller asks
# for what no rule grants), a duplicate of a request already handled, outside government duty
# (a civil dispute, a private contract)
EXCLUSION_REASONS = ("unreasonable", "duplicate", "outside_duty")
# an appeal (申诉) of the rated result: the callback's answers do not reflect the work
APPEAL_REASONS = ("caller_misjudged", "beyond_unit", "other")
KINDS = ("exclusion", "appeal")


def reason_problem(kind: str, reason_kind) -> str | None:
    """Why a request's reason is refused, or None."""
    allowed = EXCLUSION_REASONS if kind == "exclusion" else APPEAL_REASONS
    if reason_kind not in allowed:
        return f"reason_kind is one of {', '.join(allowed)}"
    return None
