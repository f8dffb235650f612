"""Use cases for routing: route a case (rule → category default → the area's supervisors),
and edit the rules (they are data)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import AppError
from . import queries


@dataclass(frozen=True)
class Route:
    """Where a case goes: a department and why (rule id, or the category's default), or
    nowhere, in which case the supervisors of its area take it (属地兜底)."""

    department_code: str | None
    source: str  # "rule", "category" or "area"
    rule_id: int | None = None


def route_case(session: Session, *, category_code: str, area_code: str | None,
               category_department: str | None) -> Route:
    rule = queries.best_rule(session, category_code, area_code)
    if rule is not None:
        return Route(rule["department_code"], "rule", rule["id"])
    if category_department:
        return Route(category_department, "category")
    return Route(None, "area")


def add_rule(session: Session, *, category_code: str | None, area_prefix: str,
             department_code: str, note: str | None, created_by_id: int) -> dict:
    """Add a rule; raises AppError routing.conflict if an active rule has the same key, or
    request.invalid for an unknown category or department."""
    try:
        row = queries.insert_rule(session, {
            "category_code": category_code, "area_prefix": area_prefix,
            "department_code": department_code, "note": note, "created_by_id": created_by_id})
        session.commit()
    except IntegrityError as exc:
        session.rollback()
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


def remove_rule(session: Session, rule_id: int) -> None:
    if not queries.deactivate_rule(session, rule_id):
        raise AppError("routing.not_found", f"There is no active rule {rule_id}.")
    session.commit()
