"""Pure decisions of 先行联系: what a contact record holds and whether it was in time."""

from __future__ import annotations

from datetime import datetime

# how a try at reaching the caller went: reached; no answer; line busy; the number is wrong;
# reached, but the caller declined to talk
CONTACT_OUTCOMES = ("reached", "no_answer", "busy", "wrong_number", "declined")


def contact_record(body: dict, *, now: datetime, dispatched_at: datetime | None,
                   due: datetime | None) -> dict:
    """The event data of one contact try: its outcome, when it happened (default now; never
    in the future, never before the dispatch) and whether it was within the contact limit
    counted from the dispatch (`due`). Raises ValueError naming what is wrong."""
    outcome = body.get("outcome")
    if outcome not in CONTACT_OUTCOMES:
        raise ValueError(f"outcome is one of {', '.join(CONTACT_OUTCOMES)}")
    at = body.get("contacted_at") or now
    if at > now:
        raise ValueError("contacted_at is not in the future")
    if dispatched_at is not None and at < dispatched_at:
        raise ValueError("contacted_at is not before the case was dispatched")
    return {"outcome": outcome, "contacted_at": at.isoformat(),
            "due_at": due.isoformat() if due else None,
            "in_time": due is None or at <= due}
