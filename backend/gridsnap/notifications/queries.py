"""Every SQL statement about notifications: the one writer, and the inbox reads."""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.orm import Session

from .. import clock
from .rules import Notice


def _insert_from_json(param: str) -> str:
    return f"""
    INSERT INTO notifications (user_id, report_id, kind, data, created_at)
    SELECT u, x.report_id, x.kind, coalesce(x.data, '{{}}'), x.created_at
      FROM jsonb_to_recordset(CAST(:{param} AS jsonb))
           AS x(users bigint[], report_id uuid, kind text, data jsonb, created_at timestamptz),
           unnest(x.users) AS u
    """


def rows_json(notices: list[Notice]) -> str:
    """The notices as the JSON parameter of `add_notices` or `insert_json_cte`; each person
    once per notice."""
    now = clock.now().isoformat()
    return json.dumps([
        {"users": sorted(set(n.user_ids)), "kind": n.kind, "data": n.data, "created_at": now,
         "report_id": str(n.report_id) if n.report_id is not None else None}
        for n in notices if n.user_ids], default=str, ensure_ascii=False)


_ADD = text(_insert_from_json("rows"))


def add_notices(session: Session, notices: list[Notice]) -> None:
    """One notification per person and notice, in the caller's transaction."""
    if any(n.user_ids for n in notices):
        session.execute(_ADD, {"rows": rows_json(notices)})


def insert_json_cte(name: str, param: str) -> str:
    """`name AS (INSERT ...)` for a WITH clause: the notices of the JSON parameter `param`
    (made by rows_json)."""
    return f"{name} AS ({_insert_from_json(param)})"


def list_inbox(session: Session, user_id: int, *, after_id: int, unread: bool,
               visible_sql: str, params: dict, limit: int = 200):
    """The inbox, newest first; a notice's case (id, number, data) only where `visible_sql`
    (an SQL condition over `reports r`, with its `params`) holds."""
    params = {**params, "u": user_id, "after": after_id, "unread": unread, "limit": limit}
    return session.execute(text(f"""
        SELECT n.id, n.kind, v.report_id, v.case_number,
               CASE WHEN v.report_id IS NOT NULL OR n.report_id IS NULL THEN n.data
                    ELSE '{{}}'::jsonb END AS data,
               n.created_at, n.read_at
          FROM notifications n
          LEFT JOIN LATERAL (
              SELECT r.id AS report_id, r.number AS case_number FROM reports r
               WHERE r.id = n.report_id AND {visible_sql}
          ) v ON true
         WHERE n.user_id = :u AND n.id > :after AND (NOT :unread OR n.read_at IS NULL)
         ORDER BY n.id DESC LIMIT :limit
    """), params).mappings().all()


def mark_read(session: Session, user_id: int, notification_id: int) -> bool:
    return bool(session.execute(text(
        "UPDATE notifications SET read_at = coalesce(read_at, :now) "
        "WHERE id = :id AND user_id = :u"),
        {"id": notification_id, "u": user_id, "now": clock.now()}).rowcount)
