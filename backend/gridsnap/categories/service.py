"""Use cases for the catalogue: list categories, load departments and categories from files."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import Session

from ..deadlines.rules import TimeLimit
from . import queries

STAGES = ("accept", "handle", "verify")


def list_categories(session: Session) -> list[dict]:
    out = []
    for r in queries.list_category_rows(session):
        d = dict(r)
        d["department"] = None if r["department_code"] is None else {
            "code": r["department_code"], "name": r["department_name"],
            "name_en": r["department_name_en"]}
        out.append(d)
    return out


def load_departments(session: Session, path: Path) -> int:
    items = json.loads(Path(path).read_text(encoding="utf-8"))
    rows = [{"code": d["code"], "name": d["name"], "name_en": d.get("name_en")} for d in items]
    session.execute(queries.UPSERT_DEPARTMENT, rows)
    return len(rows)


def load_categories(session: Session, path: Path) -> int:
    """Upsert categories from a JSON list; raises ValueError naming the entry at fault."""
    items = json.loads(Path(path).read_text(encoding="utf-8"))
    rows = []
    for c in items:
        try:
            limits = {stage: TimeLimit.from_dict(c["time_limits"][stage]).to_dict()
                      for stage in STAGES}
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"category {c.get('code')!r}: bad time_limits: {exc}") from exc
        rows.append({
            "code": c["code"], "kind": c["kind"], "major_code": c["major_code"],
            "major_name": c["major_name"], "major_name_en": c.get("major_name_en"),
            "minor_code": c["minor_code"], "name": c["name"], "name_en": c.get("name_en"),
            "department_code": c.get("department"), "priority": c.get("priority", 3),
            "time_limits": json.dumps(limits),
            "auto_accept": bool(c.get("auto_accept", False)),
            "auto_dispatch": bool(c.get("auto_dispatch", False)),
            "duplicate_radius_m": int(c.get("duplicate_radius_m", 50)),
        })
    session.execute(queries.UPSERT_CATEGORY, rows)
    return len(rows)
