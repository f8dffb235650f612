"""Use cases for routing: route a case (a hotline case by the dispatch catalogue for its class
and area; else rule → category default → the area's supervisors), and edit the rules (they
are data)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..catalogue.service import dispatch_of
from ..db import memoized, remember
from ..errors import AppError
from ..users import permissions
from ..users.rules import Principal
from . import queries


@dataclass(frozen=True)
class Route:
    """Where a case goes: a department and why (rule id, or the category's default), or
    nowhere, in which case the supervisors of its area take it (属地兜底)."""

    department_code: str | None
    source: str  # "catalogue", "rule", "category" or "area"
    rule_id: int | None = None


def route_case(session: Session, *, category_code: str, area_code: str | None,
               category_department: str | None, request_class: str | None = None) -> Route:
    """Where a case goes. A case of a 12345 request class (诉求分类) goes where the dispatch
    catalogue (派单目录) sends its class in its area, or to its class's unit type; the
    department is a unit type (street_office: the office of the case's street), the area
    picks the unit. Within a batch (db.batch_memo) each answer is asked once."""
    if request_class is not None:
        found = memoized(session, ("routing.dispatch_of", request_class, area_code),
                         lambda: dispatch_of(session, request_class, area_code))
        if found is not None and found.department_code is not None:
            return Route(found.department_code, "catalogue")
    rule = memoized(session, ("routing.best_rule", category_code, area_code),
                    lambda: queries.best_rule(session, category_code, area_code))
    if rule is not None:
        return Route(rule["department_code"], "rule", rule["id"])
    if category_department:
        return Route(category_department, "category")
    return Route(None, "area")


def prefetch_routes(session: Session, pairs) -> None:
    """Inside a batch_memo block: the best rule of every (category, area) pair asked in one
    statement, so that route_case asks nothing more for them."""
    for (category, area), rule in queries.best_rules(session, sorted(set(pairs))).items():
        remember(session, ("routing.best_rule", category, area), rule)


def add_rule(session: Session, *, category_code: str | None, area_prefix: str,
             department_code: str, note: str | None, created_by_id: int) -> dict:
    """Add a rule; raises AppError routing.conflict if an active rule has the same key, or
    request.invalid for an unknown category or department."""
    try:
        row = queries.insert_rule(session, {
            "category_code": category_code, "area_prefix": area_prefix,
            "department_code": department_code, "note": note, "created_by_id": created_by_id})
    except IntegrityError as exc:
        msg = str(exc.orig)
        if "uq_routing_rules_active_key" in msg:
            raise AppError("routing.conflict",
                           "An active rule for this category and area exists already.") from None
        if "department" in msg:
            raise AppError("request.invalid", "Unknown department.",
                           {"department": ["Unknown department code."]}) from None
        if "category" in msg:
            raise AppError("request.invalid", "Unknown category.",
                           {"category": ["Unknown category code."]}) from None
        raise
    return dict(row)


def list_rules(session: Session, principal: Principal) -> list[dict]:
    """The active rules the principal may read (READ_ROUTING_RULES: those of its area and the
    broader ones that route it), strongest first; each says whether the principal may retire
    it (EDIT_ROUTING_RULES: its scope covers the rule's area). Raises AppError auth.forbidden
    for other roles."""
    permissions.require(principal, permissions.READ_ROUTING_RULES)
    return [{**r, "editable": _may(principal, permissions.EDIT_ROUTING_RULES, r["area_prefix"])}
            for r in queries.list_rules(session)
            if _may(principal, permissions.READ_ROUTING_RULES, r["area_prefix"])]


def _may(principal: Principal, verb: permissions.Verb, area_prefix: str) -> bool:
    return permissions.may(principal, verb, permissions.InArea(area_prefix))


def check_may_add(principal: Principal, area_prefix: str) -> None:
    """Raises AppError auth.forbidden unless the principal may add a rule for this area."""
    permissions.require(principal, permissions.EDIT_ROUTING_RULES)
    if not _may(principal, permissions.EDIT_ROUTING_RULES, area_prefix):
        raise AppError("auth.forbidden", "That area is outside your scope.",
                       {"area_prefix": ["Outside your scope."]})


def remove_rule(session: Session, principal: Principal, rule_id: int) -> None:
    """Retire a rule. Raises AppError auth.forbidden (not an editor, or a broader rule the
    principal only sees) or routing.not_found (none, retired, or of another area)."""
    permissions.require(principal, permissions.EDIT_ROUTING_RULES)
    row = queries.find_active_rule(session, rule_id)
    if row is None or not _may(principal, permissions.READ_ROUTING_RULES, row["area_prefix"]):
        raise AppError("routing.not_found", f"There is no active rule {rule_id}.")
    if not _may(principal, permissions.EDIT_ROUTING_RULES, row["area_prefix"]):
        raise AppError("auth.forbidden", "That rule covers more than your scope.")
    queries.deactivate_rule(session, rule_id)
