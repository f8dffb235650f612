"""The closed loop as data: which action moves a case from which status to which, and who may.

Pure decisions, no database: the service asks `allowed_actions` and `check_action`, then writes.
States: reported → accepted (立案) | rejected (不予立案) | duplicate (merged);
accepted → dispatched (派遣); the department signs (签收; the first to sign answers for it:
首接负责) and resolves (处置完毕) or, before signing, returns it (退单) → returned, where a
supervisor reviews the return (退单审核): approved → accepted → dispatched elsewhere, refused →
dispatched back to the same department under the deadline that was running (with the review
off, GRIDSNAP_RETURN_REVIEW, a return goes straight back to accepted);
a signed department may ask for 挂账/缓办: approved → suspended (no deadline runs) → dispatched
again on its review date (the system) or earlier (a supervisor), under a new deadline;
resolved → closed (核查通过) or back to dispatched as rework (返工).

A supervisor may blow the whistle (吹哨) on a case one department cannot solve: it is
dispatched to a lead department (主办) with co-departments (协办), each of which reports in
(报到) within a limit; a co-department feeds back to the lead after reporting in, and the lead
(which reports in before signing) resolves only when every co-department has fed back. On a
case overdue or handed back twice a supervisor may issue a notice (督办) to a department of the
case, which replies.

The system is a principal too: it routes every new case (精准派单 suggestion and the accept
deadline), accepts and dispatches it where the category says so, and marks overdue cases — by
the same table, so every change of a case, by a person or a job, passes here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from zoneinfo import ZoneInfo

from ..deadlines.rules import TimeLimit
from ..events import rules as ev
from ..users.permissions import READ_CASE, Verb, may
from ..users.rules import Principal

STATUSES = ("reported", "accepted", "rejected", "duplicate", "dispatched", "returned",
            "resolved", "closed", "suspended")
# open: not ended; a suspended case (挂账) is open but no deadline runs for it
OPEN_STATUSES = ("reported", "accepted", "dispatched", "returned", "resolved", "suspended")
# where a stage's deadline may run: the overdue sweep looks only here
RUNNING_STATUSES = tuple(s for s in OPEN_STATUSES if s != "suspended")
STAGES = ("accept", "handle", "verify")
RETURN_REASONS = ("wrong_department", "outside_duties", "duplicate", "other")
# 挂账/缓办: why a case cannot be solved now (needs funding, planning, a court's decision)
SUSPENSION_REASONS = ("funding", "planning", "court", "other")
# where a case came from and, for a hotline call (接诉即办), its nature and time-limit class
SOURCES = ("worker", "hotline", "open311", "other")
# 诉求性质: 咨询, 求助, 投诉, 举报, 建议, 表扬
NATURES = ("consultation", "help", "complaint", "report", "suggestion", "praise")
URGENCIES = ("emergency", "urgent", "ordinary", "complex")
SATISFACTION = ("satisfied", "basically_satisfied", "dissatisfied")  # 满意 / 基本满意 / 不满意
MAX_CO_DEPARTMENTS = 8  # 协办 departments of one joint case
# a notice (督办) or a whistle proposal needs a case handed back (退单) or reworked this often
REPEATED = 2
# the grounds of a notice (督办) on any case, beside overdue and repeated hand-backs: a
# leader's instruction (领导批示), media exposure (媒体曝光), repeated complaints (群众反复投诉)
NOTICE_GROUNDS = ("leader_instruction", "media_exposure", "repeated_complaints", "other")

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

    @cached_property
    def verb(self) -> Verb:
        """The permission verb of the action (users.permissions): held by its roles, the
        relation to the case asked of the case's facts (`CaseFacts.allows`)."""
        return Verb(f"{VERB_PREFIX}{self.name}", self.roles,
                    f"You may not {self.name} this case in its present state.",
                    code="case.action_forbidden")


VERB_PREFIX = "case."


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
    # from returned only when no return awaits review (a case returned with the review off)
    _a("dispatch", {"accepted", "returned"}, "dispatched", _S | _SYS, ev.CASE_DISPATCHED,
       fields=("department",)),
    _a("sign", {"dispatched"}, None, {"handler"}, ev.CASE_SIGNED),
    # 退单: to returned (awaits review), or to accepted at once when the review is off
    _a("return", {"dispatched"}, "returned", {"handler"}, ev.CASE_RETURNED, needs_note=True,
       fields=("reason",)),
    # 退单审核: with a department, approve_return is followed by dispatch there (one change)
    _a("approve_return", {"returned"}, "accepted", _S, ev.CASE_RETURN_APPROVED,
       fields=("department",)),
    _a("refuse_return", {"returned"}, "dispatched", _S, ev.CASE_RETURN_REFUSED,
       needs_note=True),
    # 挂账/缓办
    _a("request_suspension", {"dispatched"}, None, {"handler"}, ev.CASE_SUSPENSION_REQUESTED,
       needs_note=True, fields=("reason_kind", "review_on")),
    _a("approve_suspension", {"dispatched"}, "suspended", _S, ev.CASE_SUSPENDED),
    _a("refuse_suspension", {"dispatched"}, None, _S, ev.CASE_SUSPENSION_REFUSED,
       needs_note=True),
    _a("resume", {"suspended"}, "dispatched", _S | _SYS, ev.CASE_RESUMED),
    _a("request_extension", {"dispatched"}, None, {"handler"}, ev.CASE_EXTENSION_REQUESTED,
       needs_note=True, fields=("extension",)),
    # a hotline case's extension is the hotline centre's to decide (the call-takers), not the
    # supervisor of the unit's area; another case's, the supervisor's (_relation_allows)
    _a("approve_extension", {"dispatched"}, None, _S | _CT, ev.CASE_EXTENSION_APPROVED),
    _a("refuse_extension", {"dispatched"}, None, _S | _CT, ev.CASE_EXTENSION_REFUSED,
       needs_note=True),
    # 吹哨报到: a joint case, its report-ins and the co-departments' feedback
    _a("whistle", {"accepted", "dispatched", "returned"}, "dispatched", _S, ev.CASE_WHISTLED,
       needs_note=True, fields=("lead_department", "co_departments")),
    _a("report_in", {"dispatched"}, None, {"handler"}, ev.CASE_REPORTED_IN),
    _a("joint_feedback", {"dispatched"}, None, {"handler"}, ev.CASE_JOINT_FEEDBACK,
       needs_note=True),
    # 督办: a supervision notice to a department of the case, and its reply
    _a("issue_notice", {"accepted", "dispatched", "returned", "resolved", "suspended"}, None,
       _S, ev.CASE_NOTICE_ISSUED, needs_note=True, fields=("department", "ground")),
    _a("reply_notice", {*OPEN_STATUSES, "closed"}, None, {"handler"}, ev.CASE_NOTICE_REPLIED,
       needs_note=True, fields=("notice_id",)),
    _a("resolve", {"dispatched"}, "resolved", {"handler"}, ev.CASE_RESOLVED, needs_photo=True),
    _a("verify_pass", {"resolved"}, "closed", {"worker"}, ev.CASE_VERIFIED, needs_photo=True,
       fields=("location",)),
    _a("verify_fail", {"resolved"}, "dispatched", {"worker"}, ev.CASE_REWORK_ORDERED,
       needs_note=True, needs_photo=True),
    _a("close", {"resolved"}, "closed", _S, ev.CASE_CLOSED),
    _a("rework", {"resolved"}, "dispatched", _S, ev.CASE_REWORK_ORDERED, needs_note=True),
    # the deadline sweep (限时办理): a running stage past its due time; the status stays
    _a("mark_overdue", RUNNING_STATUSES, None, _SYS, ev.CASE_OVERDUE),
    # the holiday data changed: the running deadline counted again (gridsnap deadlines
    # recompute); the status stays
    _a("recompute_deadline", RUNNING_STATUSES, None, _SYS, ev.CASE_DEADLINE_RECOMPUTED),
    # 接诉即办: a consultation answered on the call (即时答复) is closed at once; a closed
    # hotline case is called back (回访); 不满意 or 未解决 reopens it (重新办理)
    _a("answer", {"reported"}, "closed", _CT, ev.CASE_ANSWERED, needs_note=True),
    # 先行联系: the responsible unit records each try at reaching the caller (time, outcome)
    _a("record_contact", {"dispatched", "resolved"}, None, {"handler"}, ev.CASE_CONTACTED,
       fields=("contact",)),
    # a hotline request the centre rejected (不予立案) is its answer: called back like any other
    _a("callback", {"closed", "rejected"}, None, _CT, ev.CASE_CALLBACK_RECORDED,
       fields=("callback",)),
    _a("reopen", {"closed"}, "dispatched", _CT, ev.CASE_REOPENED, needs_note=True),
    # 不合理诉求: the unit asks for the request to leave the rates, the centre decides; 申诉:
    # the unit appeals the rated result, the centre reduces it (核减) or refuses
    _a("request_exclusion", {"dispatched", "resolved", "closed"}, None, {"handler"},
       ev.CASE_EXCLUSION_REQUESTED, needs_note=True, fields=("exclusion",)),
    _a("approve_exclusion", {"dispatched", "resolved", "closed"}, None, _S, ev.CASE_EXCLUDED),
    _a("refuse_exclusion", {"dispatched", "resolved", "closed"}, None, _S,
       ev.CASE_EXCLUSION_REFUSED, needs_note=True),
    _a("appeal", {"closed", "rejected"}, None, {"handler"}, ev.CASE_APPEALED, needs_note=True,
       fields=("appeal",)),
    _a("approve_appeal", {"closed", "rejected"}, None, _S, ev.CASE_RATING_REDUCED),
    _a("refuse_appeal", {"closed", "rejected"}, None, _S, ev.CASE_APPEAL_REFUSED,
       needs_note=True),
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
    pending_return: bool = False  # a return (退单) awaits a supervisor's review
    pending_suspension: bool = False  # a 挂账 request awaits a supervisor's decision
    joint: bool = False  # a joint case (吹哨报到)
    joint_role: str | None = None  # the caller's department in it: lead, co or None
    reported_in: bool = False  # the caller's department reported in (报到)
    fed_back: bool = False  # the caller's department (co) fed back
    feedback_missing: bool = False  # some co-department has not fed back yet
    pending_exclusion: bool = False  # a unit's exclusion (不合理诉求) awaits the centre
    pending_appeal: bool = False  # a unit's appeal (申诉) awaits the centre
    open_notice: bool = False  # a notice (督办) to the caller's department awaits its reply
    notice_due: bool = False  # overdue, or handed back or reworked REPEATED times
    visible: bool = True  # the caller may see the case (invariant 4)
    case_id: object = None

    # the case as the subject of a permission verb (users.permissions.Subject)
    def visible_to(self, p: Principal) -> bool:
        return self.visible

    def not_found(self) -> tuple[str, str]:
        return "case.not_found", f"There is no case {self.case_id}."

    def allows(self, p: Principal, verb: Verb) -> bool:
        """Whether the caller's relation to the case allows the action of the verb now (its
        role holds the verb: `permissions.may` asked first). Any other verb (READ_CASE): the
        case's visibility decides."""
        if not verb.name.startswith(VERB_PREFIX) or verb.name == READ_CASE.name:
            return True
        return _relation_allows(verb.name.removeprefix(VERB_PREFIX), p, self)


@dataclass(frozen=True)
class MissingCase:
    """No case of that id: a subject nobody sees."""

    case_id: object

    def visible_to(self, p: Principal) -> bool:
        return False

    def allows(self, p: Principal, verb: Verb) -> bool:
        return False

    def not_found(self) -> tuple[str, str]:
        return "case.not_found", f"There is no case {self.case_id}."


def subject_of(row, principal: Principal, case_id) -> CaseFacts | MissingCase:
    """The case of a row (None: there is none) as the subject of a permission verb."""
    return MissingCase(case_id) if row is None else facts_of(row, principal)


def _joint_facts(row, principal: Principal) -> dict:
    parts = row.get("joint_json") or []
    mine = next((p for p in parts if principal.department_code is not None
                 and p["department_code"] == principal.department_code), None)
    notices = row.get("notices_json") or []
    return {
        "joint": row.get("joint_departments") is not None,
        "joint_role": mine["role"] if mine else None,
        "reported_in": bool(mine and mine["reported_in_at"]),
        "fed_back": bool(mine and mine["fed_back_at"]),
        "feedback_missing": any(p["role"] == "co" and not p["fed_back_at"] for p in parts),
        "open_notice": principal.department_code is not None and any(
            n["department_code"] == principal.department_code and n["replied_at"] is None
            for n in notices),
        "notice_due": notice_due(row),
    }


def notice_due(row) -> bool:
    """Whether a notice (督办) may be issued on the case: it is overdue, or was handed back
    (退单) or reworked (返工) REPEATED times."""
    return bool(row["overdue"]) or row["return_count"] >= REPEATED or (
        row["rework_count"] >= REPEATED)


def proposes_whistle(row) -> bool:
    """Whether the overdue escalation proposes a whistle (吹哨) on a case: at escalation level
    2 or more, or handed back REPEATED times — unless it is a joint case already."""
    return row["joint_departments"] is None and (
        row["escalation_level"] >= 2 or row["return_count"] >= REPEATED)


def facts_of(row, principal: Principal) -> CaseFacts:
    """The facts of a case row (the columns of the case read model) for this principal."""
    return CaseFacts(
        status=row["status"], department_code=row["department_code"],
        signed=row["signed_at"] is not None and row["status"] == "dispatched",
        pending_extension=row["pending_extension_id"] is not None,
        verifier_id=row["verifier_id"], resolved_by_id=row["resolved_by_id"],
        covers_case=principal.covers_area(row["area_code"]), source=row["source"],
        nature=row["nature"], callback_status=row["callback_status"],
        sees_primary=sees_primary(row, principal),
        pending_return=row["request_status"] == "pending" and row["request_kind"] == "return",
        pending_suspension=(row["request_status"] == "pending"
                            and row["request_kind"] == "suspension"),
        pending_exclusion=(row["exclusion_json"] or {}).get("kind") == "exclusion",
        pending_appeal=(row["exclusion_json"] or {}).get("kind") == "appeal",
        visible=visible_to(principal, row), case_id=row["id"],
        **_joint_facts(row, principal))


def visible_to(principal: Principal, row) -> bool:
    """Whether the principal may see the case of this row (invariant 4)."""
    return principal.may_see_report(
        reporter_id=row["reporter_id"], area_code=row["area_code"],
        department_code=row["department_code"],
        responsible_department_code=row["responsible_department_code"],
        joint_departments=row["joint_departments"])


def sees_primary(row, principal: Principal) -> bool:
    """Whether the principal may see the case a duplicate was merged into (True when the row
    is no duplicate or does not carry its primary's columns: the merge action checks then)."""
    if row["duplicate_of"] is None or "primary_area_code" not in row:
        return True
    return principal.may_see_report(
        reporter_id=row["primary_reporter_id"], area_code=row["primary_area_code"],
        department_code=row["primary_department_code"],
        responsible_department_code=row["primary_responsible_department_code"],
        joint_departments=row["primary_joint_departments"])


def _relation_allows(action: str, p: Principal, c: CaseFacts) -> bool:
    """Whether the relation of the principal (of a role holding the action) to the case allows
    the action now."""
    if p.role == SYSTEM_ROLE:
        return True
    if p.role in SUPERVISORS:
        if action in EXTENSION_DECISIONS and c.source == "hotline" and p.role != "admin":
            return False  # the hotline centre decides a hotline case's extension
        # unmerge: only those who may see both cases (invariant 4)
        return c.covers_case and (action != "unmerge" or c.sees_primary)
    if p.role == "handler":
        if p.department_code is None:
            return False
        # 吹哨报到 and 督办: any department summoned to the case, or the notice's department
        if action == "report_in":
            return c.joint_role is not None and not c.reported_in
        if action == "joint_feedback":
            return c.joint_role == "co" and c.reported_in and not c.fed_back
        if action == "reply_notice":
            return c.open_notice
        if p.department_code != c.department_code:
            return False
        if action == "record_contact":
            return c.source == "hotline"  # a caller to contact
        if action in ("request_exclusion", "appeal"):
            # one at a time, on a 12345 request; an appeal is of a rated result (a callback
            # that reached the caller)
            return (c.source == "hotline" and not c.pending_exclusion and not c.pending_appeal
                    and (action != "appeal" or c.callback_status in ("done", "negative")))
        if action == "sign":
            # the lead of a joint case reports in (报到) before it signs
            return not c.signed and (not c.joint or c.reported_in)
        if action == "return":
            # after 签收 the department answers for it (首接负责); the lead of a joint case
            # was chosen by the supervisor and does not hand it back
            return not c.signed and not c.joint
        if action in ("request_extension", "request_suspension"):
            # one request at a time: 延期 or 挂账
            return c.signed and not c.pending_extension and not c.pending_suspension
        # resolve: sign first; not while a 挂账 request waits for the supervisor
        return c.signed and not c.pending_suspension
    if p.role == "worker":
        # 核查: a worker of the case's area who did not handle it; the assigned verifier first
        if not c.covers_case or p.id == c.resolved_by_id:
            return False
        return c.verifier_id is None or c.verifier_id == p.id
    if p.role == CALL_TAKER:
        if not c.covers_case or c.source != "hotline":
            return False
        if action == "answer":
            return c.nature == "consultation"
        if action == "callback":
            return c.callback_status == "pending"
        if action in EXTENSION_DECISIONS:
            return True  # the hotline centre decides its cases' extensions
        return c.callback_status == "negative"  # reopen: after 不满意 or 未解决
    return False


# the decisions on an extension (延期): the hotline centre's for a hotline case (call-takers and
# admins), the supervisors' for any other
EXTENSION_DECISIONS = ("approve_extension", "refuse_extension")


# decisions need the request they decide: action -> (the fact, what is missing)
_NEEDS_PENDING = {
    "approve_extension": ("pending_extension", "extension request"),
    "refuse_extension": ("pending_extension", "extension request"),
    "approve_return": ("pending_return", "return (退单) awaiting review"),
    "refuse_return": ("pending_return", "return (退单) awaiting review"),
    "approve_suspension": ("pending_suspension", "挂账 request"),
    "refuse_suspension": ("pending_suspension", "挂账 request"),
    "approve_exclusion": ("pending_exclusion", "exclusion request (不合理诉求)"),
    "refuse_exclusion": ("pending_exclusion", "exclusion request (不合理诉求)"),
    "approve_appeal": ("pending_appeal", "appeal (申诉)"),
    "refuse_appeal": ("pending_appeal", "appeal (申诉)"),
}
# actions a pending request holds back: action -> the fact that blocks it
_BLOCKED_BY = {"dispatch": "pending_return"}


def _state_allows(action: Action, c: CaseFacts) -> bool:
    need = _NEEDS_PENDING.get(action.name)
    if need is not None and not getattr(c, need[0]):
        return False
    block = _BLOCKED_BY.get(action.name)
    return block is None or not getattr(c, block)


def _waits_for(action: Action, c: CaseFacts) -> TransitionError | None:
    """What keeps an action the caller may take from being possible yet, if anything."""
    if action.name == "resolve" and c.feedback_missing:
        return TransitionError("case.joint_feedback_missing",
                               "Every co-department (协办) feeds back before the lead resolves.")
    return None


def notice_ground(row, ground: str | None) -> str | None:
    """The ground of a notice (督办): the one named (NOTICE_GROUNDS), else the case's own —
    overdue, or handed back or reworked REPEATED times; None: no ground (the notice is
    refused)."""
    if ground is not None:
        return ground
    if row["overdue"]:
        return "overdue"
    return "repeated" if notice_due(row) else None


def allowed_actions(p: Principal, c: CaseFacts) -> list[str]:
    """The actions the principal may take on the case now, in the table's order."""
    return [a.name for a in ACTIONS.values()
            if c.status in a.from_statuses and _state_allows(a, c) and may(p, a.verb, c)
            and _waits_for(a, c) is None]


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
    if not _state_allows(action, c):
        if action.name in _NEEDS_PENDING:
            raise TransitionError("case.invalid_transition",
                                  f"There is no {_NEEDS_PENDING[action.name][1]} on this case.")
        raise TransitionError("case.invalid_transition",
                              "The department's return awaits review: approve it (and "
                              "dispatch) or refuse it first.")
    if not may(p, action.verb, c):
        raise TransitionError(action.verb.code, action.verb.refusal)
    waiting = _waits_for(action, c)
    if waiting is not None:
        raise waiting
    return action


def request_alive(case) -> bool:
    """Whether the case's live request (case_requests) still fits the case: a return awaits
    review while the case is returned; a 挂账 request waits while the department that asked
    holds the dispatched case; a 挂账 in force lasts while the case is suspended. A change that
    takes the case elsewhere (another feature's action, say) overtakes it: it is withdrawn."""
    if case.get("request_id") is None:
        return True
    kind, status = case["request_kind"], case["request_status"]
    if kind == "return":
        return case["status"] == "returned"
    if status == "pending":
        return (case["status"] == "dispatched"
                and case["department_code"] == case["request_department"])
    return case["status"] == "suspended"


def follow_up_steps(action: str, body: dict) -> list[str]:
    """The steps of a person's change: the action, and a dispatch after an approved return
    when a department is named (退单审核: "approve and re-dispatch to …" in one change)."""
    if action == "approve_return" and body.get("department"):
        return [action, "dispatch"]
    return [action]


def instant(value):
    """A stored instant as a datetime: a JSON column gives its ISO text; None stays None."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def local_date(now, timezone: str):
    """The date of an instant in the deployment's time zone (a review date is such a date)."""
    return now.astimezone(ZoneInfo(timezone)).date()


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
# event data naming several cases: a list under this key, each entry named as LINK_KEYS say
# (case.possible_duplicate: the links a case got, {other_id, distance_m} each)
LINK_LISTS = ("links",)


def _entries(data: dict) -> list[dict]:
    """The data itself and the entries of its lists of linked cases."""
    return [data, *(e for key in LINK_LISTS if isinstance(data.get(key), list)
                    for e in data[key] if isinstance(e, dict))]


def linked_ids(data) -> set[str]:
    """The ids of the other cases an event's data names."""
    if not isinstance(data, dict):
        return set()
    return {str(e[k]) for e in _entries(data) for k in LINK_KEYS if e.get(k)}


def _without_hidden(entry: dict, visible_ids: set) -> dict:
    out = dict(entry)
    for key, related in LINK_KEYS.items():
        if out.get(key) and str(out[key]) not in visible_ids:
            for k in (key, *related):
                out.pop(k, None)
    return out


def without_hidden_links(data, visible_ids: set):
    """An event's data without the cases the caller may not see: their ids and what is told
    about them (distance, number) are left out (invariant 4) — in the data itself and in each
    entry of a list of linked cases (an entry of a hidden case stays, empty: as many links as
    there are, as one event per link showed them)."""
    if not isinstance(data, dict):
        return data
    out = _without_hidden(data, visible_ids)
    for key in LINK_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [_without_hidden(e, visible_ids) if isinstance(e, dict) else e
                        for e in out[key]]
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
