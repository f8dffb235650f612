"""SQL for users and tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from .models import ApiToken, User

_PRINCIPAL_BY_TOKEN = """
    SELECT u.id, u.username, u.display_name, u.role, u.scopes, u.department_code,
           t.id AS token_id, t.expires_at
      FROM api_tokens t JOIN users u ON u.id = t.user_id
     WHERE t.token_hash = %(h)s AND t.revoked_at IS NULL AND t.expires_at > now()
       AND u.disabled_at IS NULL
"""


def find_principal_row(session: Session, token_hash: bytes) -> dict | None:
    """Straight to psycopg: this runs on every request."""
    from psycopg.rows import dict_row

    raw = session.connection().connection.driver_connection
    with raw.cursor(row_factory=dict_row) as cur:
        cur.execute(_PRINCIPAL_BY_TOKEN, {"h": token_hash})
        return cur.fetchone()


def find_user_by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def insert_token(session: Session, *, user_id: int, token_hash: bytes, expires_at: datetime,
                 label: str | None) -> ApiToken:
    token = ApiToken(user_id=user_id, token_hash=token_hash, expires_at=expires_at, label=label)
    session.add(token)
    session.flush()
    return token


def revoke_token(session: Session, token_id: int) -> None:
    session.execute(update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
                    .values(revoked_at=text("now()")))


def revoke_user_tokens(session: Session, user_id: int) -> int:
    result = session.execute(
        update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=text("now()")))
    return result.rowcount or 0


def department_exists(session: Session, code: str) -> bool:
    return session.execute(text("SELECT 1 FROM departments WHERE code = :c"),
                           {"c": code}).first() is not None
