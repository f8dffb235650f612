"""SQL for categories and departments."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def list_category_rows(session: Session, *, include_inactive: bool = False):
    return session.execute(text("""
        SELECT c.code, c.kind, c.major_code, c.major_name, c.major_name_en, c.minor_code,
               c.name, c.name_en, c.department_code, d.name AS department_name,
               d.name_en AS department_name_en, c.priority, c.time_limits, c.active,
               c.auto_accept, c.auto_dispatch, c.duplicate_radius_m
          FROM categories c LEFT JOIN departments d ON d.code = c.department_code
         WHERE c.active OR :all
         ORDER BY c.kind, c.code
    """), {"all": include_inactive}).mappings().all()


# the distinct time limits of the active categories ({stage: {amount, unit}} as text: a
# handful, whatever the number of categories), for a statement that gathers more (health.queries)
TIME_LIMITS_TEXTS = """(
    SELECT coalesce(array_agg(DISTINCT time_limits::text), '{}') FROM categories WHERE active)"""


UPSERT_DEPARTMENT = text("""
    INSERT INTO departments (code, name, name_en) VALUES (:code, :name, :name_en)
    ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, name_en = EXCLUDED.name_en
""")

UPSERT_CATEGORY = text("""
    INSERT INTO categories (code, kind, major_code, major_name, major_name_en, minor_code, name,
                            name_en, department_code, priority, time_limits, auto_accept,
                            auto_dispatch, duplicate_radius_m)
    VALUES (:code, :kind, :major_code, :major_name, :major_name_en, :minor_code, :name,
            :name_en, :department_code, :priority, CAST(:time_limits AS jsonb), :auto_accept,
            :auto_dispatch, :duplicate_radius_m)
    ON CONFLICT (code) DO UPDATE SET
        kind = EXCLUDED.kind, major_code = EXCLUDED.major_code,
        major_name = EXCLUDED.major_name, major_name_en = EXCLUDED.major_name_en,
        minor_code = EXCLUDED.minor_code, name = EXCLUDED.name, name_en = EXCLUDED.name_en,
        department_code = EXCLUDED.department_code, priority = EXCLUDED.priority,
        time_limits = EXCLUDED.time_limits, auto_accept = EXCLUDED.auto_accept,
        auto_dispatch = EXCLUDED.auto_dispatch, duplicate_radius_m = EXCLUDED.duplicate_radius_m
""")
