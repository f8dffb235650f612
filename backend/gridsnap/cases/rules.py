"""The closed loop as data: which action moves a case from which status to which, and who may.

Pure decisions, no database: the service asks `allowed_actions` and `check_action`, then writes.
States: reported → accepted (立案) | rejected (不予立案) | duplicate (merged);
accepted → dispatched (派遣); the department signs (签收; the first to sign answers for it:
首接负责) and resolves (处置完毕) or, before signing, returns it (退单) → returned → dispatched;
resolved → closed (核查通过) or back to dispatched as rework (返工).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..users.rules import Principal

SUPERVISORS = frozenset({"supervisor", "admin"})
OPEN_STATUSES = ("reported", "accepted", "dispatched", "returned", "resolved")
ENDED_STATUSES = ("closed", "rejected", "duplicate")
RETURN_REASONS = ("wrong_department", "outside_duties", "duplicate", "other")


@dataclass(frozen=True)
class Action:
    name: str
    from_statuses: frozenset[str]
    to_status: str | None  # None: the status stays (sign, extensions) or is computed (unmerge)
    roles: frozenset[str]
    needs_note: bool = False
    needs_photo: bool = False
    fields: tuple[str, ...] = field(default=())


def _a(name, frm, to, roles, **kw) -> Action:
    return Action(name, frozenset(frm), to, frozenset(roles), **kw)


ACTIONS: dict[str, Action] = {a.name: a for a in (
    _a("accept", {"reported"}, "accepted", SUPERVISORS),
    _a("reject", {"reported"}, "rejected", SUPERVISORS, needs_note=True),
    _a("merge", {"reported", "accepted"}, "duplicate", SUPERVISORS, fields=("target_case_id",)),
    _a("unmerge", {"duplicate"}, None, SUPERVISORS),
    _a("dispatch", {"accepted", "returned"}, "dispatched", SUPERVISORS, fields=("department",)),
    _a("sign", {"dispatched"}, None, {"handler"}),
    _a("return", {"dispatched"}, "returned", {"handler"}, needs_note=True, fields=("reason",)),
    _a("request_extension", {"dispatched"}, None, {"handler"}, needs_note=True,
       fields=("extension",)),
    _a("approve_extension", {"dispatched"}, None, SUPERVISORS),
    _a("refuse_extension", {"dispatched"}, None, SUPERVISORS, needs_note=True),
    _a("resolve", {"dispatched"}, "resolved", {"handler"}, needs_photo=True),
    _a("verify_pass", {"resolved"}, "closed", {"worker"}, needs_photo=True,
       fields=("location",)),
    _a("verify_fail", {"resolved"}, "dispatched", {"worker"}, needs_note=True, needs_photo=True),
    _a("close", {"resolved"}, "closed", SUPERVISORS),
    _a("rework", {"resolved"}, "dispatched", SUPERVISORS, needs_note=True),
)}

# the stage whose deadline runs in each status (限时办理)
STAGE_OF_STATUS = {"reported": "accept", "accepted": "accept", "returned": "accept",
                   "dispatched": "handle", "resolved": "verify"}


@dataclass(frozen=True)
class CaseFacts:
    """What the rules need to know about a case and the caller's relation to it."""

    status: str
    department_code: str | None
    signed: bool  # the current dispatch was signed for
    pending_extension: bool
    verifier_id: int | None
    resolved_by_id: int | None
    covers_case: bool  # the caller's area scope covers the case


def who_may(action: Action, p: Principal, c: CaseFacts) -> bool:
    """Whether the principal's role and relation to the case allow the action now."""
    if p.role not in action.roles:
        return False
    if p.role in SUPERVISORS:
        return c.covers_case
    if p.role == "handler":
        if p.department_code is None or p.department_code != c.department_code:
            return False
        if action.name == "sign":
            return not c.signed
        if action.name == "return":
            return not c.signed  # after 签收 the department answers for it (首接负责)
        if action.name == "request_extension":
            return c.signed and not c.pending_extension
        return c.signed  # resolve: sign first
    if p.role == "worker":
        # 核查: a worker of the case's area who did not handle it; the assigned verifier first
        if not c.covers_case or p.id == c.resolved_by_id:
            return False
        return c.verifier_id is None or c.verifier_id == p.id
    return False


def allowed_actions(p: Principal, c: CaseFacts) -> list[str]:
    out = []
    for a in ACTIONS.values():
        if c.status not in a.from_statuses or not who_may(a, p, c):
            continue
        if a.name in ("approve_extension", "refuse_extension") and not c.pending_extension:
            continue
        out.append(a.name)
    return out


class TransitionError(Exception):
    """The action is not possible in this state (409) or not for this caller (403)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def check_action(name: str, p: Principal, c: CaseFacts) -> Action:
    """The action if the principal may take it now; raises TransitionError otherwise."""
    action = ACTIONS.get(name)
    if action is None:
        raise TransitionError("request.invalid", f"Unknown action {name!r}.")
    if c.status not in action.from_statuses:
        raise TransitionError(
            "case.invalid_transition",
            f"A case that is {c.status} cannot be {name}: allowed from "
            f"{', '.join(sorted(action.from_statuses))}.")
    if name in ("approve_extension", "refuse_extension") and not c.pending_extension:
        raise TransitionError("case.invalid_transition",
                              "There is no pending extension request on this case.")
    if not who_may(action, p, c):
        raise TransitionError("case.action_forbidden",
                              f"You may not {name} this case in its present state.")
    return action


def stage_for(status: str) -> str | None:
    return STAGE_OF_STATUS.get(status)
