"""The closed loop as data: which action moves a case from which status to which, and who may.

Pure decisions, no database: the service asks `allowed_actions` and `check_action`, then writes.
States: reported → accepted (立案) | rejected (不予立案) | duplicate (merged);
accepted → dispatched (派遣); the department signs (签收; the first to sign answers for it:
首接负责) and resolves (处置完毕) or, before signing, returns it (退单) → returned → dispatched;
resolved → closed (核查通过) or back to dispatched as rework (返工).

The system is a principal too: it routes every new case (精准派单 suggestion and the accept
deadline), accepts and dispatches it where the category says so, and marks overdue cases — by
the same table, so every change of a case, by a person or a job, passes here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ..deadlines.rules import TimeLimit
from ..events import rules as ev
from ..users.rules import Principal

STATUSES = ("reported", "accepted", "rejected", "duplicate", "dispatched", "returned",
            "resolved", "closed")
OPEN_STATUSES = ("reported", "accepted", "dispatched", "returned", "resolved")
STAGES = ("accept", "handle", "verify")
RETURN_REASONS = ("wrong_department", "outside_duties", "duplicate", "other")

SUPERVISORS = frozenset({"supervisor", "admin"})
CALL_TAKER = "call_taker"  # 话务员 of the 12345 hotline
SYSTEM_ROLE = "system"
# the routing job, the auto-accept and auto-dispatch of a category, the deadline sweep
SYSTEM = Principal(id=0, username="system", display_name="系统 system", role=SYSTEM_ROLE,
                   scopes=("",))


@dataclass(frozen=True)
class Action:
    name: str
    from_statuses: frozenset[str]
    to_status: str | None  # None: the status stays (sign, extensions) or is computed (unmerge)
    roles: frozenset[str]
    event: str  # the audit event it writes (events.rules)
    needs_note: bool = False
    needs_photo: bool = False
    fields: tuple[str, ...] = field(default=())


def _a(name, frm, to, roles, event, **kw) -> Action:
    return Action(name, frozenset(frm), to, frozenset(roles), event, **kw)


_S = SUPERVISORS
_SYS = {SYSTEM_ROLE}
_CT = {CALL_TAKER}

ACTIONS: dict[str, Action] = {a.name: a for a in (
    _a("route", {"reported"}, None, _SYS, ev.REPORT_ROUTED),
    _a("accept", {"reported"}, "accepted", _S | _SYS, ev.CASE_ACCEPTED),
    _a("reject", {"reported"}, "rejected", _S, ev.CASE_REJECTED, needs_note=True),
    _a("merge", {"reported", "accepted"}, "duplicate", _S, ev.CASE_MERGED,
       fields=("target_case_id",)),
    _a("unmerge", {"duplicate"}, None, _S, ev.CASE_UNMERGED),
    _a("dispatch", {"accepted", "returned"}, "dispatched", _S | _SYS, ev.CASE_DISPATCHED,
       fields=("department",)),
    _a("sign", {"dispatched"}, None, {"handler"}, ev.CASE_SIGNED),
    _a("return", {"dispatched"}, "returned", {"handler"}, ev.CASE_RETURNED, needs_note=True,
       fields=("reason",)),
    _a("request_extension", {"dispatched"}, None, {"handler"}, ev.CASE_EXTENSION_REQUESTED,
       needs_note=True, fields=("extension",)),
    _a("approve_extension", {"dispatched"}, None, _S, ev.CASE_EXTENSION_APPROVED),
    _a("refuse_extension", {"dispatched"}, None, _S, ev.CASE_EXTENSION_REFUSED,
       needs_note=True),
    _a("resolve", {"dispatched"}, "resolved", {"handler"}, ev.CASE_RESOLVED, needs_photo=True),
    _a("verify_pass", {"resolved"}, "closed", {"worker"}, ev.CASE_VERIFIED, needs_photo=True,
       fields=("location",)),
    _a("verify_fail", {"resolved"}, "dispatched", {"worker"}, ev.CASE_REWORK_ORDERED,
       needs_note=True, needs_photo=True),
    _a("close", {"resolved"}, "closed", _S, ev.CASE_CLOSED),
    _a("rework", {"resolved"}, "dispatched", _S, ev.CASE_REWORK_ORDERED, needs_note=True),
    # the deadline sweep (限时办理): a running stage past its due time; the status stays
    _a("mark_overdue", OPEN_STATUSES, None, _SYS, ev.CASE_OVERDUE),
    # the holiday data changed: the running deadline counted again (gridsnap deadlines
    # recompute); the status stays
    _a("recompute_deadline", OPEN_STATUSES, None, _SYS, ev.CASE_DEADLINE_RECOMPUTED),
    # 接诉即办: a consultation answered on the call (即时答复) is closed at once; a closed
    # hotline case is called back (回访); 不满意 or 未解决 reopens it (重新办理)
    _a("answer", {"reported"}, "closed", _CT, ev.CASE_ANSWERED, needs_note=True),
    _a("callback", {"closed"}, None, _CT, ev.CASE_CALLBACK_RECORDED, fields=("callback",)),
    _a("reopen", {"closed"}, "dispatched", _CT, ev.CASE_REOPENED, needs_note=True),
)}

# what people may send to POST /cases/{id}/actions
HUMAN_ACTIONS = tuple(name for name, a in ACTIONS.items() if a.roles - _SYS)


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
    source: str = "worker"  # worker, hotline, open311, other
    nature: str | None = None  # 诉求性质 of a hotline call
    callback_status: str | None = None  # pending, done, negative, unreachable
    sees_primary: bool = True  # a duplicate: the caller may see the case it was merged into


def facts_of(row, principal: Principal) -> CaseFacts:
    """The facts of a case row (the columns of the case read model) for this principal."""
    return CaseFacts(
        status=row["status"], department_code=row["department_code"],
        signed=row["signed_at"] is not None and row["status"] == "dispatched",
        pending_extension=row["pending_extension_id"] is not None,
        verifier_id=row["verifier_id"], resolved_by_id=row["resolved_by_id"],
        covers_case=principal.covers_area(row["area_code"]), source=row["source"],
        nature=row["nature"], callback_status=row["callback_status"],
        sees_primary=sees_primary(row, principal))


def visible_to(principal: Principal, row) -> bool:
    """Whether the principal may see the case of this row (invariant 4)."""
    return principal.may_see_report(
        reporter_id=row["reporter_id"], area_code=row["area_code"],
        department_code=row["department_code"],
        responsible_department_code=row["responsible_department_code"])


def sees_primary(row, principal: Principal) -> bool:
    """Whether the principal may see the case a duplicate was merged into (True when the row
    is no duplicate or does not carry its primary's columns: the merge action checks then)."""
    if row["duplicate_of"] is None or "primary_area_code" not in row:
        return True
    return principal.may_see_report(
        reporter_id=row["primary_reporter_id"], area_code=row["primary_area_code"],
        department_code=row["primary_department_code"],
        responsible_department_code=row["primary_responsible_department_code"])


def who_may(action: Action, p: Principal, c: CaseFacts) -> bool:
    """Whether the principal's role and relation to the case allow the action now."""
    if p.role not in action.roles:
        return False
    if p.role == SYSTEM_ROLE:
        return True
    if p.role in SUPERVISORS:
        # unmerge: only those who may see both cases (invariant 4)
        return c.covers_case and (action.name != "unmerge" or c.sees_primary)
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
    if p.role == CALL_TAKER:
        if not c.covers_case or c.source != "hotline":
            return False
        if action.name == "answer":
            return c.nature == "consultation"
        if action.name == "callback":
            return c.callback_status == "pending"
        return c.callback_status == "negative"  # reopen: after 不满意 or 未解决
    return False


def _needs_pending(action: Action) -> bool:
    return action.name in ("approve_extension", "refuse_extension")


def allowed_actions(p: Principal, c: CaseFacts) -> list[str]:
    """The actions the principal may take on the case now, in the table's order."""
    return [a.name for a in ACTIONS.values()
            if c.status in a.from_statuses and who_may(a, p, c)
            and (c.pending_extension or not _needs_pending(a))]


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
    if _needs_pending(action) and not c.pending_extension:
        raise TransitionError("case.invalid_transition",
                              "There is no pending extension request on this case.")
    if not who_may(action, p, c):
        raise TransitionError("case.action_forbidden",
                              f"You may not {name} this case in its present state.")
    return action


def next_automatic_action(case) -> str | None:
    """What the system does next to a case it is routing: route it; accept it where its
    category auto-accepts; dispatch it to the suggested department where the category also
    auto-dispatches and the routing found one. None: leave it to people."""
    if case["routed_at"] is None:
        return "route"
    if case["status"] == "reported" and case["auto_accept"]:
        return "accept"
    if (case["status"] == "accepted" and case["auto_accept"] and case["auto_dispatch"]
            and case["suggested_department_code"]):
        return "dispatch"
    return None


def pick_level(rows, level: str, admins: Callable[[], list[int]]) -> list[int]:
    """From (id, depth) rows of the supervisors covering one area, those of the level asked:
    the closest to the ground ("owner"), or the level above them ("next_up", 街乡吹哨); the
    admins when there is no such level."""
    depths = sorted({r["depth"] for r in rows}, reverse=True)
    if not depths:
        return admins()
    if level == "owner":
        return [r["id"] for r in rows if r["depth"] == depths[0]]
    if len(depths) < 2:
        return [r["id"] for r in rows if r["depth"] == depths[0]] + admins()
    return [r["id"] for r in rows if r["depth"] == depths[1]]


# event data naming another case: the key of its id, and what else it tells about that case
LINK_KEYS = {"other_id": ("distance_m",), "target_case_id": ("target_number",),
             "former_primary": ()}


def without_hidden_links(data, visible_ids: set):
    """An event's data without the cases the caller may not see: their ids and what is told
    about them (distance, number) are left out (invariant 4)."""
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for key, related in LINK_KEYS.items():
        if out.get(key) and str(out[key]) not in visible_ids:
            for k in (key, *related):
                out.pop(k, None)
    return out


# events that move or mark the running deadline without starting a stage: walking a case's
# trail back from its end, the first other event with a due_at started the running stage
DEADLINE_MOVES = frozenset({ev.CASE_EXTENSION_APPROVED, ev.CASE_DEADLINE_RECOMPUTED,
                            ev.CASE_OVERDUE})


def extensions_of_stage(deadline_events: Sequence) -> list[tuple[datetime, TimeLimit]]:
    """From a case's events that carry a due_at (oldest first), the extensions (延期) approved
    since its running stage started, oldest first: (approved at, the limit granted)."""
    out = []
    for e in reversed(deadline_events):
        if e["action"] not in DEADLINE_MOVES:
            break
        if e["action"] == ev.CASE_EXTENSION_APPROVED:
            out.append((e["at"], TimeLimit.from_dict(e["data"]["extension"])))
    return out[::-1]
