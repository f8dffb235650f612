"""SQL for users and tokens, and who holds a role over an area or a department."""

from __future__ import annotations

from datetime import datetime

from psycopg.rows import dict_row
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from .. import clock
from .models import ApiToken, User
from .rules import Principal

_PRINCIPAL_BY_TOKEN = """
    SELECT u.id, u.username, u.display_name, u.role, u.scopes, u.department_code,
           t.id AS token_id, t.expires_at
      FROM api_tokens t JOIN users u ON u.id = t.user_id
     WHERE t.token_hash = %(h)s AND t.revoked_at IS NULL AND t.expires_at > %(now)s
       AND u.disabled_at IS NULL
"""


def find_principal_row(session: Session, token_hash: bytes) -> dict | None:
    """Straight to psycopg: this runs on every request."""

    raw = session.connection().connection.driver_connection
    with raw.cursor(row_factory=dict_row) as cur:
        cur.execute(_PRINCIPAL_BY_TOKEN, {"h": token_hash, "now": clock.now()})
        return cur.fetchone()


def find_user_by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def list_users(session: Session) -> list[User]:
    """Every user, by role and name."""
    return list(session.scalars(select(User).order_by(User.role, User.username)))


def insert_token(session: Session, *, user_id: int, token_hash: bytes, expires_at: datetime,
                 label: str | None) -> ApiToken:
    token = ApiToken(user_id=user_id, token_hash=token_hash, expires_at=expires_at, label=label)
    session.add(token)
    session.flush()
    return token


def revoke_token(session: Session, token_id: int) -> None:
    session.execute(update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
                    .values(revoked_at=clock.now()))


def revoke_user_tokens(session: Session, user_id: int) -> int:
    result = session.execute(
        update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=clock.now()))
    return result.rowcount or 0


def department_exists(session: Session, code: str) -> bool:
    return session.execute(text("SELECT 1 FROM departments WHERE code = :c"),
                           {"c": code}).first() is not None


def known_departments(session: Session, codes: list[str]) -> set[str]:
    """Which of these department codes exist."""
    return set(session.execute(text("SELECT code FROM departments WHERE code = ANY(:c)"),
                               {"c": list(codes)}).scalars())


def supervisors_by_depth(session: Session, area_codes: list[str | None]):
    """Active supervisors whose scope covers each area: (area_code, id, depth) rows, depth the
    length of their longest covering prefix (the deeper, the closer to the ground)."""
    return session.execute(text("""
        SELECT a.area AS area_code, u.id, max(length(s)) AS depth
          FROM unnest(CAST(:areas AS text[])) AS a(area)
          JOIN users u ON u.role = 'supervisor' AND u.disabled_at IS NULL
          CROSS JOIN LATERAL unnest(u.scopes) AS s
         WHERE s = '' OR (a.area IS NOT NULL AND starts_with(a.area, s))
         GROUP BY a.area, u.id
    """), {"areas": list(area_codes)}).mappings().all()


def call_takers(session: Session) -> list[int]:
    """The active call-takers (话务员): they call hotline callers back (回访)."""
    return list(session.execute(text(
        "SELECT id FROM users WHERE role = 'call_taker' AND disabled_at IS NULL ORDER BY id")
    ).scalars())


def admins(session: Session) -> list[int]:
    return list(session.execute(text(
        "SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL ORDER BY id")).scalars())


def handlers_covering(session: Session,
                      units: list[tuple[str, str | None]]) -> dict[tuple[str, str | None], list[int]]:
    """The active handlers of each (department, case area): the responsible unit (责任单位)
    covering that area — handlers of the department whose scopes hold the area ('' is the
    city; a case outside every area only the city's). {(code, area): [user id, ...]}."""
    out: dict[tuple[str, str | None], list[int]] = {u: [] for u in units}
    if not units:
        return out
    pairs = sorted(out, key=lambda u: (u[0], u[1] or ""))
    rows = session.execute(text("""
        SELECT p.d, p.a, u.id
          FROM unnest(CAST(:ds AS text[]), CAST(:as AS text[])) AS p(d, a)
          JOIN users u ON u.role = 'handler' AND u.department_code = p.d
                      AND u.disabled_at IS NULL
         WHERE '' = ANY(u.scopes)
            OR EXISTS (SELECT 1 FROM unnest(u.scopes) s WHERE s <> '' AND starts_with(p.a, s))
         ORDER BY u.id
    """), {"ds": [d for d, _ in pairs], "as": [a for _, a in pairs]}).all()
    for d, a, uid in rows:
        out[(d, a)].append(uid)
    return out


def choose_verifier(session: Session, area_code: str | None, exclude: list[int]) -> int | None:
    """The worker to verify a case on site (核查): a worker whose scope covers the case, the
    closest scope first, then the one with the fewest verifications waiting."""
    if area_code is None:
        return None
    return session.execute(text("""
        SELECT u.id FROM users u, unnest(u.scopes) AS s
         WHERE u.role = 'worker' AND u.disabled_at IS NULL AND s <> ''
           AND starts_with(:area, s) AND NOT (u.id = ANY(:exclude))
         GROUP BY u.id
         ORDER BY max(length(s)) DESC,
                  (SELECT count(*) FROM reports t
                    WHERE t.verifier_id = u.id AND t.status = 'resolved'),
                  u.id
         LIMIT 1
    """), {"area": area_code, "exclude": exclude}).scalar()


# --- scope: what a principal may see (invariant 4) -----------------------------------------

def scope_predicate(principal: Principal, params: dict, alias: str = "r") -> str:
    """SQL that keeps only the cases the principal may see (invariant 4); fills `params`."""
    params["scope_uid"] = principal.id
    clauses = [f"{alias}.reporter_id = :scope_uid"]
    if principal.role == "handler":
        # the same rule as Principal.may_see_report: their department, in their area
        prefixes = [p for p in principal.scopes if p]
        if principal.department_code and ("" in principal.scopes or prefixes):
            params["scope_dept"] = principal.department_code
            unit = (f"({alias}.department_code = :scope_dept "
                    f"OR {alias}.responsible_department_code = :scope_dept "
                    # summoned to a joint case (吹哨报到): the GIN index finds them
                    f"OR {alias}.joint_departments @> ARRAY[CAST(:scope_dept AS text)])")
            if "" not in principal.scopes:
                params["scope_patterns"] = [p + "%" for p in prefixes]
                unit += f" AND {alias}.area_code LIKE ANY(:scope_patterns)"
            clauses.append(f"({unit})")
        return "(" + " OR ".join(clauses) + ")"
    if principal.sees_everything:
        return "TRUE"
    prefixes = [p for p in principal.scopes if p]
    if prefixes:
        params["scope_patterns"] = [p + "%" for p in prefixes]
        clauses.append(f"{alias}.area_code LIKE ANY(:scope_patterns)")
    return "(" + " OR ".join(clauses) + ")"


# a scope is the start of an area code: the grid's `areas` read (never written) to check it
_UNKNOWN_PREFIXES = text("""
    SELECT p FROM unnest(CAST(:prefixes AS text[])) WITH ORDINALITY AS given(p, n)
     WHERE p <> '' AND NOT EXISTS (SELECT 1 FROM areas a WHERE starts_with(a.code, p))
     ORDER BY n
""")


def unknown_prefixes(session: Session, prefixes: list[str]) -> list[str]:
    """The prefixes that no area's code starts with ('' is the whole city: never unknown)."""
    return list(session.execute(_UNKNOWN_PREFIXES, {"prefixes": list(prefixes)}).scalars())
