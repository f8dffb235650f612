"""Use cases of the inbox: read mine, mark one read."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..errors import AppError
from ..users.queries import scope_predicate
from ..users.rules import Principal
from . import queries


def list_inbox(session: Session, principal: Principal, *, after_id: int = 0,
               unread: bool = False) -> list[dict]:
    """My notifications, newest first (at most 200); a notice names its case only while the
    principal may see it (a narrowed scope hides the cases now outside it: invariant 4)."""
    params: dict = {}
    visible = scope_predicate(principal, params)
    return [dict(r) for r in queries.list_inbox(session, principal.id, after_id=after_id,
                                                unread=unread, visible_sql=visible,
                                                params=params)]


def mark_read(session: Session, principal: Principal, notification_id: int) -> None:
    """Mark one of my notifications read; raises AppError notification.not_found."""
    found = queries.mark_read(session, principal.id, notification_id)
    if not found:
        raise AppError("notification.not_found", "There is no such notification of yours.")
