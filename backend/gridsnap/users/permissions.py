"""One permission verb: `may(principal, verb, subject)` answers, `require(...)` refuses.

Who holds a verb is data: `VERBS` below, one row per verb naming the roles that hold it and
the refusal its 403 gets. The case actions are verbs too, one per row of `cases.rules.ACTIONS`
(`Action.verb`, held by the roles of that row, refused as case.action_forbidden).

A verb on a subject (a case) asks the subject two more things: whether the principal may see
it at all — if not, `require` answers as if it did not exist (the subject's 404, invariant 4),
never 403 — and whether the principal's relation to it (a handler's department, a worker's
area, a co-department that reported in) allows the verb now.

A verb may name the relation itself (`Verb.relation`), asked of a target bound to an area:
`Scoped(scopes)` — a user, a client's API key — is managed by an admin whose scopes hold all
of its own (`manages`: nobody grants a scope wider than theirs, nor edits a broader user);
`InArea(prefix)` — a routing rule, a campaign — is covered by the principal's scope
(`covers`), or, to read the routing rules that route one's area, overlaps it (`overlaps`).
The use case asks `may(principal, verb, target)` and says what a refusal is (a user out of
reach is its 404, as if there were none).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from ..errors import AppError
from .rules import Principal, scopes_within


@dataclass(frozen=True)
class Verb:
    """Something a principal may do, the roles that hold it, and what a refusal says."""

    name: str
    roles: frozenset[str] | None  # None: every role (the subject decides)
    refusal: str = "You may not do this."
    code: str = "auth.forbidden"  # a 403 of the errors registry
    fields: dict[str, list[str]] = field(default_factory=dict, compare=False, hash=False)
    # the relation the principal must stand in to a target (Scoped, InArea) to do it there
    relation: Callable[[Principal, object], bool] | None = field(
        default=None, compare=False, hash=False)

    def held_by(self, principal: Principal) -> bool:
        return self.roles is None or principal.role in self.roles


class Subject(Protocol):
    """What a verb is done to (a case). Visibility first: outside it the answer is 404."""

    def visible_to(self, principal: Principal) -> bool: ...

    def allows(self, principal: Principal, verb: Verb) -> bool: ...

    def not_found(self) -> tuple[str, str]:
        """The (code, message) of a 404 for this subject (as if it did not exist)."""
        ...


# --- relations to a target bound to an area (area code prefixes; "" is the city) ---------------

@dataclass(frozen=True)
class Scoped:
    """A user or a client's API key: bound to its scopes (none: the city admin's)."""

    scopes: tuple[str, ...]

    def visible_to(self, principal: Principal) -> bool:
        return True  # the use case says what is out of reach (a user's 404)

    def allows(self, principal: Principal, verb: Verb) -> bool:
        return verb.relation is None or verb.relation(principal, self)


@dataclass(frozen=True)
class InArea:
    """A routing rule or a campaign: bound to one area, `prefix` ("" the city)."""

    prefix: str

    def visible_to(self, principal: Principal) -> bool:
        return True

    def allows(self, principal: Principal, verb: Verb) -> bool:
        return verb.relation is None or verb.relation(principal, self)


def manages(principal: Principal, target: Scoped) -> bool:
    """All the target's scopes lie within the principal's own; one of no scope, only the
    city's."""
    return principal.sees_everything or (
        bool(target.scopes) and scopes_within(target.scopes, principal.scopes))


def covers(principal: Principal, target: InArea) -> bool:
    """The principal's scope covers the target's whole area (the city: only the city's)."""
    return principal.covers_area(target.prefix or None)


def overlaps(principal: Principal, target: InArea) -> bool:
    """The target's area lies within the principal's scope, or holds it (a city-wide or
    district routing rule routes the principal's area too); not another area."""
    return principal.sees_everything or any(
        target.prefix.startswith(s) or s.startswith(target.prefix) for s in principal.scopes if s)


def _verb(name: str, roles: Iterable[str] | None, refusal: str, **kw) -> Verb:
    return Verb(name, None if roles is None else frozenset(roles), refusal, **kw)


_ADMIN = {"admin"}
_CALL_TAKER = {"call_taker"}
_UNMASKED = {"call_taker", "admin"}  # see a caller's personal data (invariant 10)
_SUPERVISORS = {"supervisor", "admin"}

# an admin manages the users and keys whose scopes lie within its own (an admin of one street:
# that street's)
MANAGE_USERS = _verb("users.manage", _ADMIN, "Only admins manage users.", relation=manages)
MANAGE_OPEN311_CLIENTS = _verb("open311.clients.manage", _ADMIN,
                               "Only admins manage Open311 clients.", relation=manages)
# an API key of a client system (GeoReport v2's 403 when it is anyone else's)
FILE_OPEN311_REQUESTS = _verb("open311.requests.file", {"client"},
                              "Invalid api_key received -- can't proceed.",
                              code="open311.forbidden")
TAKE_CALLS = _verb("hotline.calls.take", _CALL_TAKER, "Only call-takers take calls.")
CALL_BACK = _verb("hotline.callbacks.list", _UNMASKED, "Only call-takers call back.")
PLACE_ADDRESSES = _verb("hotline.addresses.place", _UNMASKED,
                        "Only call-takers resolve addresses.")
UNMASK_CALLERS = _verb("callers.unmask", _UNMASKED,
                       "Only call-takers and admins see a caller unmasked.")
# 精准派单: a rule is read where it routes the reader's area, changed only by an editor whose
# scope covers its whole area
READ_ROUTING_RULES = _verb("routing.rules.read", _SUPERVISORS,
                           "Only supervisors and admins read routing rules.", relation=overlaps)
EDIT_ROUTING_RULES = _verb("routing.rules.edit", _SUPERVISORS,
                           "Only supervisors and admins edit routing rules.", relation=covers)
# 专项: in an area the runner's scope covers
RUN_CAMPAIGNS = _verb("campaigns.run", _SUPERVISORS,
                      "Only supervisors and admins start campaigns.", relation=covers)
# a campaign is seen by whoever's scope overlaps its area (its cases stay scoped)
READ_CAMPAIGNS = _verb("campaigns.read", None, "You may not see this campaign.",
                       relation=overlaps)
# 先行联系: the handler of the unit a hotline case is dispatched to calls its caller back
# (the case and the caller decide the rest: hotline.rules.may_reveal_number)
CONTACT_CALLERS = _verb("callers.contact", {"handler"},
                        "Only the unit a hotline case is dispatched to sees its caller's number.")
# the 12345 catalogue and the dispatch catalogue, and the address points (门牌): admins import
# them; the call-takers (and those who dispatch) search them
IMPORT_CATALOGUE = _verb("catalogue.import", _ADMIN,
                         "Only admins import the catalogues and the address points.")
SEARCH_CATALOGUE = _verb("catalogue.search", {"call_taker", "supervisor", "admin"},
                         "Only call-takers, supervisors and admins search the catalogue.")
# repeat callers (by the keyed hash of the number): the call-taker asks while the caller is on
# the line; anyone who may see a case sees the other calls of its caller they may see
CALLER_HISTORY = _verb("hotline.callers.history", _UNMASKED,
                       "Only call-takers and admins look up a number's calls.")
# /health in full (versions, counts, free disk); a load balancer gets up/down only
READ_HEALTH_DETAILS = _verb("health.details", _ADMIN, "Only admins see the health details.")
# 矛盾纠纷 (disputes.rules.DisputeSubject decides who sees one): filed from the field; worked
# by the community's mediators (调解员, their scopes) and the street's 综治 office — the
# supervisors and admins whose scope is a street or wider (综治中心 and the grid centre work as
# one at street level) — who alone see the parties unmasked (audited) and the figures
_DISPUTE_STAFF = {"mediator", "supervisor", "admin"}
REPORT_DISPUTES = _verb("disputes.report", {"worker", "mediator", "supervisor", "admin"},
                        "Only grid workers, mediators and the 综治 office report disputes.")
MEDIATE_DISPUTES = _verb("disputes.mediate", {"mediator"},
                         "Only the community's mediators mediate its disputes.")
OVERSEE_DISPUTES = _verb("disputes.oversee", _SUPERVISORS,
                         "Only the street's 综治 office and above oversee disputes.")
READ_DISPUTE = _verb("dispute.read", None, "You may not see this dispute.")
WORK_DISPUTE = _verb("dispute.work", _DISPUTE_STAFF,
                     "Only the dispute's mediators and the street's 综治 office work it.")
UNMASK_PARTIES = _verb("dispute.parties.unmask", _DISPUTE_STAFF,
                       "Only the dispute's mediators and the 综治 office see its parties.")
READ_DISPUTE_FIGURES = _verb("disputes.figures", _DISPUTE_STAFF,
                             "Only mediators and the 综治 office read the dispute figures.")
# 按时巡: a worker records their own patrols; the supervisors (and admins) covering the worker's
# cells see the tracks (personal data: nobody else), set the plans and read the coverage
RECORD_PATROLS = _verb("patrols.record", {"worker"}, "Only grid workers record patrols.")
SUPERVISE_PATROLS = _verb("patrols.supervise", _SUPERVISORS,
                          "Only supervisors see other workers' tracks.")
READ_PATROL = _verb("patrol.read", None, "You may not see this patrol.")
PLAN_PATROLS = _verb("patrols.plan", _SUPERVISORS, "Only supervisors and admins set patrol plans.")
READ_PATROL_FIGURES = _verb("patrols.figures", _SUPERVISORS,
                            "Only supervisors and admins read the patrol figures.")
# a case, for anyone who may see it (invariant 4: the case decides; outside it, 404)
READ_CASE = _verb("case.read", None, "You may not see this case.")

# the table: every verb outside the case actions, by name
VERBS: dict[str, Verb] = {v.name: v for v in (
    MANAGE_USERS, MANAGE_OPEN311_CLIENTS, FILE_OPEN311_REQUESTS, TAKE_CALLS, CALL_BACK,
    PLACE_ADDRESSES, UNMASK_CALLERS, CONTACT_CALLERS, READ_ROUTING_RULES, EDIT_ROUTING_RULES,
    RUN_CAMPAIGNS, READ_CAMPAIGNS, READ_HEALTH_DETAILS, READ_CASE,
    REPORT_DISPUTES, MEDIATE_DISPUTES, OVERSEE_DISPUTES, READ_DISPUTE, WORK_DISPUTE,
    UNMASK_PARTIES, READ_DISPUTE_FIGURES, RECORD_PATROLS, SUPERVISE_PATROLS, READ_PATROL,
    PLAN_PATROLS, READ_PATROL_FIGURES, IMPORT_CATALOGUE, SEARCH_CATALOGUE, CALLER_HISTORY,
)}


def may(principal: Principal, verb: Verb, subject: Subject | None = None) -> bool:
    """Whether the principal holds the verb, and, on a subject, sees it and stands in a
    relation to it that allows the verb now."""
    if not verb.held_by(principal):
        return False
    return subject is None or (subject.visible_to(principal)
                               and subject.allows(principal, verb))


def require(principal: Principal, verb: Verb, subject: Subject | None = None) -> None:
    """Returns if `may`; else raises AppError: the subject's 404 when the principal may not
    see it (invariant 4), else the verb's 403 (auth.forbidden unless the verb says)."""
    if subject is not None and not subject.visible_to(principal):
        code, message = subject.not_found()
        raise AppError(code, message)
    if not may(principal, verb, subject):
        raise AppError(verb.code, verb.refusal, dict(verb.fields))
