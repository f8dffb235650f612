"""Every SQL statement about joint cases (吹哨报到: joint_participants) and supervision notices
(督办: case_notices): their one writer, and the list of notices."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

from ...users.queries import scope_predicate
from ...users.rules import Principal


def insert_participants(session: Session, report_id: uuid.UUID, rows: list[dict]) -> None:
    """The departments summoned to a joint case: dicts of department_code, role, summoned_at,
    summoned_by_id, report_due_at."""
    session.execute(text("""
        INSERT INTO joint_participants (report_id, department_code, role, summoned_at,
                                        summoned_by_id, report_due_at)
        VALUES (:r, :department_code, :role, :summoned_at, :summoned_by_id, :report_due_at)
    """), [{"r": report_id, **row} for row in rows])


def record_report_in(session: Session, report_id: uuid.UUID, department_code: str, at,
                     by_id: int) -> None:
    session.execute(text("""
        UPDATE joint_participants SET reported_in_at = :at, reported_in_by_id = :by
         WHERE report_id = :r AND department_code = :d AND reported_in_at IS NULL
    """), {"r": report_id, "d": department_code, "at": at, "by": by_id})


def record_feedback(session: Session, report_id: uuid.UUID, department_code: str, at,
                    by_id: int, feedback: str) -> None:
    session.execute(text("""
        UPDATE joint_participants SET fed_back_at = :at, fed_back_by_id = :by, feedback = :f
         WHERE report_id = :r AND department_code = :d AND role = 'co'
    """), {"r": report_id, "d": department_code, "at": at, "by": by_id, "f": feedback})


def insert_notice(session: Session, row: dict) -> None:
    """A notice (督办): dicts of id, report_id, department_code, issued_at, issued_by_id, note,
    ground, reply_due_at."""
    session.execute(text("""
        INSERT INTO case_notices (id, report_id, department_code, issued_at, issued_by_id,
                                  note, ground, reply_due_at)
        VALUES (:id, :report_id, :department_code, :issued_at, :issued_by_id, :note, :ground,
                :reply_due_at)
    """), row)


def record_reply(session: Session, notice_id: uuid.UUID, at, by_id: int, reply: str) -> None:
    session.execute(text("""
        UPDATE case_notices SET replied_at = :at, replied_by_id = :by, reply = :reply
         WHERE id = :id AND replied_at IS NULL
    """), {"id": notice_id, "at": at, "by": by_id, "reply": reply})


def list_notice_rows(session: Session, principal: Principal, *, state: str | None, now,
                     offset: int, limit: int):
    """A page of the notices on cases the principal may see (invariant 4) — a handler only
    those to their department — newest first, and the total.
    state: open (no reply yet), replied, overdue (open past its reply deadline)."""
    params: dict = {"now": now, "offset": offset, "limit": limit}
    where = [scope_predicate(principal, params)]
    if principal.role == "handler":
        params["dept"] = principal.department_code
        where.append("n.department_code = :dept")
    if state == "open":
        where.append("n.replied_at IS NULL")
    elif state == "replied":
        where.append("n.replied_at IS NOT NULL")
    elif state == "overdue":
        where.append("n.replied_at IS NULL AND n.reply_due_at < :now")
    cond = " AND ".join(where)
    total = session.execute(text(
        f"SELECT count(*) FROM case_notices n JOIN reports r ON r.id = n.report_id "
        f"WHERE {cond}"), params).scalar()
    rows = session.execute(text(f"""
        SELECT n.id, n.report_id, r.number, r.status, r.category_code, r.description,
               n.department_code, d.name, d.name_en, n.issued_at, iu.display_name AS issued_by,
               n.issued_by_id, n.note, n.ground, n.reply_due_at, n.replied_at,
               pu.display_name AS replied_by, n.reply
          FROM case_notices n JOIN reports r ON r.id = n.report_id
          JOIN departments d ON d.code = n.department_code
          JOIN users iu ON iu.id = n.issued_by_id
          LEFT JOIN users pu ON pu.id = n.replied_by_id
         WHERE {cond}
         ORDER BY n.issued_at DESC, n.id OFFSET :offset LIMIT :limit
    """), params).mappings().all()
    return rows, total
