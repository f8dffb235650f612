"""Every SQL statement of the 12345 catalogue and the dispatch catalogue."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from .. import clock


def existing_codes(session: Session) -> dict[str, set[str]]:
    """The codes an imported row may name: request classes (with whether each has a category
    of its own), categories, departments, areas."""
    out = {}
    for key, sql in (("classes", "SELECT code FROM request_classes"),
                     ("classes_with_category",
                      "SELECT code FROM request_classes WHERE category_code IS NOT NULL"),
                     ("categories", "SELECT code FROM categories"),
                     ("departments", "SELECT code FROM departments"),
                     ("areas", "SELECT code FROM areas")):
        out[key] = set(session.execute(text(sql)).scalars())
    return out


_UPSERT_CLASS = text("""
    INSERT INTO request_classes (code, parent_code, level, name, name_en, pinyin, initials,
                                 keywords, category_code, department_code, active, updated_at)
    VALUES (:code, :parent_code, :level, :name, :name_en, :pinyin, :initials, :keywords,
            :category_code, :department_code, :active, :now)
    ON CONFLICT (code) DO UPDATE
       SET parent_code = EXCLUDED.parent_code, level = EXCLUDED.level, name = EXCLUDED.name,
           name_en = EXCLUDED.name_en, pinyin = EXCLUDED.pinyin, initials = EXCLUDED.initials,
           keywords = EXCLUDED.keywords, category_code = EXCLUDED.category_code,
           department_code = EXCLUDED.department_code, active = EXCLUDED.active,
           updated_at = EXCLUDED.updated_at
""")


def upsert_classes(session: Session, rows: list[dict]) -> None:
    """Parents before children (the rows come sorted by code)."""
    now = clock.now()
    if rows:
        session.execute(_UPSERT_CLASS, [{**r, "now": now} for r in rows])


def deactivate_classes_except(session: Session, codes: list[str]) -> int:
    """A whole catalogue imported: the classes it leaves out stop being offered (kept: cases
    name them)."""
    return session.execute(text(
        "UPDATE request_classes SET active = false, updated_at = :now "
        "WHERE active AND NOT (code = ANY(:codes))"),
        {"codes": codes, "now": clock.now()}).rowcount


_UPSERT_ENTRY = text("""
    INSERT INTO dispatch_entries (class_code, area_prefix, department_code, note, updated_at)
    VALUES (:class_code, :area_prefix, :department_code, :note, :now)
    ON CONFLICT (class_code, area_prefix) DO UPDATE
       SET department_code = EXCLUDED.department_code, note = EXCLUDED.note,
           updated_at = EXCLUDED.updated_at
""")


def upsert_entries(session: Session, rows: list[dict], *, replace: bool) -> None:
    if replace:
        session.execute(text("DELETE FROM dispatch_entries"))
    if rows:
        now = clock.now()
        session.execute(_UPSERT_ENTRY, [{**r, "now": now} for r in rows])


# the unit a class goes to in an area: the dispatch catalogue's entry for the most specific
# class of its chain, then the longest area prefix; else the nearest class's unit type
DISPATCH_SQL = """
    LEFT JOIN LATERAL (
        SELECT e.id, e.department_code FROM dispatch_entries e
         WHERE starts_with({cls}, e.class_code)
           AND (e.area_prefix = '' OR starts_with(coalesce({area}, ''), e.area_prefix))
         ORDER BY length(e.class_code) DESC, length(e.area_prefix) DESC, e.id
         LIMIT 1) de ON true
    LEFT JOIN LATERAL (
        SELECT a.department_code FROM request_classes a
         WHERE starts_with({cls}, a.code) AND a.department_code IS NOT NULL
         ORDER BY a.level DESC LIMIT 1) dd ON true
    LEFT JOIN LATERAL (
        SELECT a.category_code FROM request_classes a
         WHERE starts_with({cls}, a.code) AND a.category_code IS NOT NULL
         ORDER BY a.level DESC LIMIT 1) dc ON true
"""

_CLASS = text(f"""
    SELECT k.code, k.level, k.name, k.name_en, k.active, dc.category_code,
           coalesce(de.department_code, dd.department_code) AS department_code,
           de.id AS dispatch_entry_id
      FROM request_classes k
      {DISPATCH_SQL.format(cls="k.code", area="CAST(:area AS text)")}
     WHERE k.code = :code
""")


def find_class(session: Session, code: str, area_code: str | None = None):
    """A class with its category and the unit it goes to in the area (its own or an
    ancestor's), or None."""
    return session.execute(_CLASS, {"code": code, "area": area_code}).mappings().first()


_SEARCH = text(f"""
    SELECT k.code, k.level, k.name, k.name_en, dc.category_code,
           coalesce(de.department_code, dd.department_code) AS department_code,
           (de.id IS NOT NULL) AS from_dispatch_catalogue,
           d.name AS department_name, d.name_en AS department_name_en,
           p1.name AS parent_name, p1.name_en AS parent_name_en,
           p2.name AS grandparent_name, p2.name_en AS grandparent_name_en,
           NOT EXISTS (SELECT 1 FROM request_classes c
                        WHERE c.parent_code = k.code AND c.active) AS leaf
      FROM request_classes k
      LEFT JOIN request_classes p1 ON p1.code = k.parent_code
      LEFT JOIN request_classes p2 ON p2.code = p1.parent_code
      {DISPATCH_SQL.format(cls="k.code", area="CAST(:area AS text)")}
      LEFT JOIN departments d ON d.code = coalesce(de.department_code, dd.department_code)
     WHERE k.active
       AND (strpos(k.name, :q) > 0 OR strpos(k.pinyin, :qn) > 0
            OR starts_with(k.initials, :qn) OR strpos(lower(coalesce(k.name_en, '')), :ql) > 0
            OR strpos(lower(k.keywords), :ql) > 0 OR starts_with(k.code, :qu))
     ORDER BY leaf DESC,
              (starts_with(k.name, :q) OR starts_with(k.pinyin, :qn)
               OR starts_with(k.initials, :qn) OR starts_with(lower(coalesce(k.name_en, '')), :ql)
               OR starts_with(k.code, :qu)) DESC,
              k.level DESC, k.code
     LIMIT :limit
""")


def search(session: Session, q: str, qn: str, area_code: str | None, limit: int):
    """Active classes matching the typed text (Chinese, pinyin, initials, English, keywords,
    code), leaves first, then those it begins, with the unit each goes to in the area."""
    return session.execute(_SEARCH, {"q": q, "qn": qn, "ql": q.lower(), "qu": q.upper(),
                                     "area": area_code, "limit": limit}).mappings().all()


def counts(session: Session) -> dict:
    return dict(session.execute(text(
        "SELECT (SELECT count(*) FROM request_classes WHERE active) AS classes, "
        "(SELECT count(*) FROM dispatch_entries) AS dispatch_entries")).mappings().one())


def all_classes(session: Session):
    """Every class, retired ones too, in code order (parents before children)."""
    return session.execute(text("""
        SELECT code, parent_code, level, name, name_en, category_code, department_code,
               keywords, active
          FROM request_classes ORDER BY length(code), code
    """)).mappings().all()


def all_entries(session: Session):
    return session.execute(text("""
        SELECT id, class_code, area_prefix, department_code, note FROM dispatch_entries
         ORDER BY class_code, area_prefix
    """)).mappings().all()
