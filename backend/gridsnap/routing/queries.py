"""SQL for routing rules: the candidates for a case (the ordering is rules.precedence in SQL)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

_BEST = text("""
    SELECT id, category_code, area_prefix, department_code FROM routing_rules
     WHERE active AND (category_code IS NULL OR category_code = :category)
       AND (area_prefix = '' OR starts_with(coalesce(:area, ''), area_prefix))
     ORDER BY (category_code IS NULL), length(area_prefix) DESC, id
     LIMIT 1
""")


def best_rule(session: Session, category: str, area_code: str | None):
    return session.execute(_BEST, {"category": category, "area": area_code}).mappings().first()


def best_rules(session: Session, pairs: list[tuple[str, str | None]]) -> dict:
    """best_rule of each (category, area) pair, in one statement: {(category, area): row or
    None}."""
    if not pairs:
        return {}
    rows = session.execute(text("""
        SELECT p.category, p.area, b.id, b.category_code, b.area_prefix, b.department_code
          FROM unnest(CAST(:categories AS text[]), CAST(:areas AS text[])) AS p(category, area)
          LEFT JOIN LATERAL (
              SELECT id, category_code, area_prefix, department_code FROM routing_rules
               WHERE active AND (category_code IS NULL OR category_code = p.category)
                 AND (area_prefix = '' OR starts_with(coalesce(p.area, ''), area_prefix))
               ORDER BY (category_code IS NULL), length(area_prefix) DESC, id
               LIMIT 1) b ON true
    """), {"categories": [c for c, _ in pairs], "areas": [a for _, a in pairs]}).mappings()
    return {(r["category"], r["area"]): (None if r["id"] is None else {
        k: r[k] for k in ("id", "category_code", "area_prefix", "department_code")})
        for r in rows}


def list_rules(session: Session, *, include_inactive: bool = False):
    return session.execute(text("""
        SELECT r.id, r.category_code, r.area_prefix, r.department_code, r.note, r.active,
               r.created_at, u.username AS created_by
          FROM routing_rules r LEFT JOIN users u ON u.id = r.created_by_id
         WHERE r.active OR :all
         ORDER BY (r.category_code IS NULL), r.category_code, length(r.area_prefix) DESC, r.id
    """), {"all": include_inactive}).mappings().all()


def insert_rule(session: Session, params: dict):
    return session.execute(text("""
        INSERT INTO routing_rules (category_code, area_prefix, department_code, note,
                                   created_by_id)
        VALUES (:category_code, :area_prefix, :department_code, :note, :created_by_id)
        RETURNING id, category_code, area_prefix, department_code, note, active, created_at
    """), params).mappings().one()


def find_active_rule(session: Session, rule_id: int):
    return session.execute(text(
        "SELECT id, area_prefix FROM routing_rules WHERE id = :id AND active FOR UPDATE"),
        {"id": rule_id}).mappings().first()


def deactivate_rule(session: Session, rule_id: int) -> bool:
    return bool(session.execute(text(
        "UPDATE routing_rules SET active = false WHERE id = :id AND active"),
        {"id": rule_id}).rowcount)
