"""Pure decisions of 接诉即办: the vocabulary of a call, the hotline's time limits, how a
caller's personal data is masked, and what a callback (回访) decides."""

from __future__ import annotations

import re

from ..deadlines.rules import TimeLimit

SOURCES = ("worker", "hotline", "open311", "other")
# 诉求性质: 咨询, 求助, 投诉, 举报, 建议, 表扬
NATURES = ("consultation", "help", "complaint", "report", "suggestion", "praise")
URGENCIES = ("emergency", "urgent", "ordinary", "complex")
SATISFACTION = ("satisfied", "basically_satisfied", "dissatisfied")  # 满意 / 基本满意 / 不满意
CALLBACK_TRIES = 3  # not reachable after three tries: recorded as unreachable
# who sees a caller's personal data unmasked (each view on the audit trail, invariant 10)
UNMASKED_ROLES = frozenset({"call_taker", "admin"})


def hotline_limit(limits, urgency: str) -> TimeLimit:
    """The handling time limit of a hotline case of this urgency (settings' table)."""
    for name, amount, unit in limits:
        if name == urgency:
            return TimeLimit(amount, unit)
    raise ValueError(f"no hotline time limit for urgency {urgency!r}")


def mask_phone(phone: str | None) -> str | None:
    """138****1234: the first three and the last four digits; shorter numbers keep only the
    last two. None stays None."""
    if not phone:
        return phone
    digits = re.sub(r"\D", "", phone)
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 4:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)


def mask_name(name: str | None) -> str | None:
    """王* / 欧阳** / J***: the first character, the rest starred."""
    if not name:
        return name
    return name[0] + "*" * max(1, len(name) - 1)


def mask_email(email: str | None) -> str | None:
    if not email:
        return email
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def caller_view(row, *, unmasked: bool) -> dict | None:
    """A caller row as shown: masked unless `unmasked`; an anonymous caller's name is never
    shown to anyone but those who see it unmasked."""
    if row is None:
        return None
    if unmasked:
        return {"name": row["name"], "phone": row["phone"], "email": row["email"],
                "anonymous": row["anonymous"], "masked": False}
    return {"name": None if row["anonymous"] else mask_name(row["name"]),
            "phone": mask_phone(row["phone"]), "email": mask_email(row["email"]),
            "anonymous": row["anonymous"], "masked": True}


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
