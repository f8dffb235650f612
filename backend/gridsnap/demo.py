"""The demo city (Beijing, Dongcheng district): grid, catalogue, departments, the 12345
catalogue with its dispatch catalogue, address points (门牌) and one user per role."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from .catalogue.service import import_classes, import_dispatch
from .categories.service import load_categories, load_departments
from .grid.service import import_addresses, import_grid
from .settings import REPO_ROOT
from .stats.service import import_populations
from .users import queries as user_queries
from .users.service import add_user

FIXTURES = REPO_ROOT / "fixtures"


def demo_loaded(session: Session) -> bool:
    return bool(session.execute(text(
        "SELECT EXISTS (SELECT 1 FROM areas WHERE code = '110101') "
        "AND EXISTS (SELECT 1 FROM categories) AND EXISTS (SELECT 1 FROM request_classes)"
    )).scalar())


def load_demo(session: Session, fixtures: Path = FIXTURES, *, progress: bool = False) -> dict:
    """Load (or refresh) the demo city; returns the demo users as {username: password, role}.

    Idempotent: departments, categories and areas are upserted by code; users are created
    only if missing (an existing user's password is never reset). Does not commit.
    """
    load_departments(session, fixtures / "departments.json")
    load_categories(session, fixtures / "categories.json")
    result = import_grid(session, fixtures / "dongcheng.geojson", progress=progress)
    if not result.ok:
        lines = "\n".join(p.message for p in result.problems[:20])
        raise RuntimeError(f"the demo grid does not validate:\n{lines}")
    import_classes(session, (fixtures / "request_classes.csv").read_bytes())
    import_dispatch(session, (fixtures / "dispatch_catalogue.csv").read_bytes())
    import_addresses(session, (fixtures / "address_points.csv").read_bytes())
    # residents per area (the 考评 ranking's requests per 10,000 residents): demo figures
    people = import_populations(session, str(fixtures / "populations.csv"))
    if people["problems"]:
        raise RuntimeError(f"the demo populations do not load: {people['problems'][:5]}")
    users = json.loads((fixtures / "users.json").read_text(encoding="utf-8"))
    for u in users:
        if user_queries.find_user_by_username(session, u["username"]) is None:
            add_user(session, username=u["username"], display_name=u["display_name"],
                     role=u["role"], password=u["password"], scopes=u["scopes"],
                     department_code=u.get("department"))
    return {u["username"]: {"password": u["password"], "role": u["role"],
                            "display_name": u["display_name"]} for u in users}
