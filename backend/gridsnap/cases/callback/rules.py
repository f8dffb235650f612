"""Pure decisions of the callback (回访) of a hotline case: what an attempt records, and when
the answer calls for rework."""

from __future__ import annotations

from ..rules import SATISFACTION

CALLBACK_TRIES = 3  # not reachable after three tries: recorded as unreachable


def callback_result(body: dict, attempts_before: int) -> dict:
    """What a callback attempt records: reached or not; when reached, 响应 / 解决 / 满意;
    the third unanswered try makes the caller unreachable. Raises ValueError when a reached
    callback lacks an answer."""
    reached = bool(body.get("reached"))
    if not reached:
        attempt = attempts_before + 1
        return {"reached": False, "attempt": attempt,
                "unreachable": attempt >= CALLBACK_TRIES}
    missing = [k for k in ("responded", "solved", "satisfaction") if body.get(k) is None]
    if missing:
        raise ValueError(f"a callback that reached the caller records {', '.join(missing)}")
    if body["satisfaction"] not in SATISFACTION:
        raise ValueError(f"satisfaction is one of {', '.join(SATISFACTION)}")
    return {"reached": True, "attempt": attempts_before + 1,
            "responded": bool(body["responded"]), "solved": bool(body["solved"]),
            "satisfaction": body["satisfaction"]}


def calls_for_rework(result: dict) -> bool:
    """不满意 or 未解决: the case may be reopened (重新办理)."""
    return result.get("reached", False) and (
        not result["solved"] or result["satisfaction"] == "dissatisfied")
