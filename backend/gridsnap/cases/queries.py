"""SQL for cases: lock a case, apply a change, the audit trail, people to notify, duplicates."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from ..reports.queries import _VIEW_COLUMNS, _VIEW_JOINS, scope_predicate
from ..users.rules import Principal


def lock_case(session: Session, report_id: uuid.UUID):
    """The case row, locked until commit: concurrent actions on one case run one after another."""
    session.execute(text("SELECT 1 FROM reports WHERE id = :id FOR UPDATE"), {"id": report_id})
    return session.execute(text(
        f"SELECT {_VIEW_COLUMNS}, c.time_limits, c.department_code AS category_department "
        f"FROM reports r {_VIEW_JOINS} JOIN categories c ON c.code = r.category_code "
        f"WHERE r.id = :id"), {"id": report_id}).mappings().first()


def update_case(session: Session, report_id: uuid.UUID, changes: dict) -> None:
    """Apply column changes and bump the version (the ETag)."""
    sets = ", ".join(f"{k} = :{k}" for k in changes)
    session.execute(text(
        f"UPDATE reports SET {sets}{', ' if sets else ''}version = version + 1, "
        f"updated_at = now() WHERE id = :_id"), {**changes, "_id": report_id})


def insert_event(session: Session, *, report_id, actor_id, action, from_status, to_status,
                 note=None, department_code=None, client_action_id=None, data=None,
                 at: datetime | None = None) -> None:
    import json

    session.execute(text("""
        INSERT INTO case_events (report_id, at, actor_id, action, from_status, to_status, note,
                                 department_code, client_action_id, data)
        VALUES (:report_id, coalesce(:at, now()), :actor_id, :action, :from_status, :to_status,
                :note, :department_code, :client_action_id, CAST(:data AS jsonb))
    """), {"report_id": report_id, "at": at, "actor_id": actor_id, "action": action,
           "from_status": from_status, "to_status": to_status, "note": note,
           "department_code": department_code, "client_action_id": client_action_id,
           "data": json.dumps(data or {}, default=str, ensure_ascii=False)})


def find_event_by_client_action(session: Session, client_action_id: uuid.UUID):
    return session.execute(text(
        "SELECT report_id, action, actor_id FROM case_events WHERE client_action_id = :c"),
        {"c": client_action_id}).mappings().first()


def list_events(session: Session, report_id: uuid.UUID):
    return session.execute(text("""
        SELECT e.id, e.at, e.action, e.from_status, e.to_status, e.note, e.department_code,
               e.data, e.actor_id, u.username AS actor_username,
               u.display_name AS actor_display_name, u.role AS actor_role
          FROM case_events e LEFT JOIN users u ON u.id = e.actor_id
         WHERE e.report_id = :id ORDER BY e.id  -- append-only: insertion order is causal order
    """), {"id": report_id}).mappings().all()


def case_photos(session: Session, report_id: uuid.UUID, photo_ids: list[uuid.UUID]):
    return session.execute(text("""
        SELECT id, purpose, uploader_id FROM photos
         WHERE report_id = :r AND id = ANY(CAST(:ids AS uuid[]))
    """), {"r": report_id, "ids": [str(p) for p in photo_ids]}).mappings().all()


def pending_extension(session: Session, report_id: uuid.UUID):
    return session.execute(text("""
        SELECT id, requested_by_id, amount, unit, reason, created_at FROM extension_requests
         WHERE report_id = :r AND status = 'pending'
    """), {"r": report_id}).mappings().first()


def insert_extension(session: Session, report_id, requested_by_id, amount, unit, reason):
    session.execute(text("""
        INSERT INTO extension_requests (report_id, requested_by_id, amount, unit, reason)
        VALUES (:r, :u, :a, :unit, :reason)
    """), {"r": report_id, "u": requested_by_id, "a": amount, "unit": unit, "reason": reason})


def decide_extension(session: Session, ext_id: int, status: str, decided_by_id: int,
                     note: str | None) -> None:
    session.execute(text("""
        UPDATE extension_requests SET status = :s, decided_by_id = :u, decided_at = now(),
               decision_note = :n WHERE id = :id
    """), {"s": status, "u": decided_by_id, "n": note, "id": ext_id})


def supervisors_by_depth(session: Session, area_code: str | None):
    """Active supervisors whose scope covers the area, with the length of their longest
    covering prefix (the deeper, the closer to the ground)."""
    return session.execute(text("""
        SELECT u.id, max(length(s)) AS depth
          FROM users u, unnest(u.scopes) AS s
         WHERE u.role = 'supervisor' AND u.disabled_at IS NULL
           AND (s = '' OR starts_with(coalesce(:area, ''), s) AND :area IS NOT NULL)
         GROUP BY u.id
    """), {"area": area_code}).mappings().all()


def admins(session: Session) -> list[int]:
    return list(session.execute(text(
        "SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL")).scalars())


def handlers_of(session: Session, department_code: str) -> list[int]:
    return list(session.execute(text(
        "SELECT id FROM users WHERE role = 'handler' AND department_code = :d "
        "AND disabled_at IS NULL ORDER BY id"), {"d": department_code}).scalars())


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


def possible_duplicates(session: Session, report_id: uuid.UUID, principal: Principal):
    """Open cases linked to this one that the principal may see (invariant 4)."""
    params: dict = {"id": report_id}
    scope = scope_predicate(principal, params, alias="o")
    return session.execute(text(f"""
        SELECT o.id, o.number, o.status, o.category_code, o.received_at, l.distance_m,
               o.description
          FROM case_links l
          JOIN reports o ON o.id = CASE WHEN l.report_id = :id THEN l.other_id
                                        ELSE l.report_id END
         WHERE (l.report_id = :id OR l.other_id = :id) AND {scope}
         ORDER BY l.distance_m, o.received_at
    """), params).mappings().all()


def duplicates_of(session: Session, report_id: uuid.UUID, principal: Principal):
    params: dict = {"id": report_id}
    scope = scope_predicate(principal, params, alias="o")
    return session.execute(text(
        f"SELECT o.id, o.number, o.reporter_id FROM reports o "
        f"WHERE o.duplicate_of = :id AND {scope} ORDER BY o.number"), params).mappings().all()


def add_outbox(session: Session, topic: str, payload: dict,
               available_at: datetime | None = None) -> None:
    import json

    session.execute(text("""
        INSERT INTO outbox (topic, payload, available_at)
        VALUES (:t, CAST(:p AS jsonb), :a)
    """), {"t": topic, "p": json.dumps(payload, default=str), "a": available_at})


def notify(session: Session, user_ids, report_id, kind: str, data: dict | None = None) -> None:
    import json

    ids = sorted(set(u for u in user_ids if u is not None))
    if not ids:
        return
    session.execute(text("""
        INSERT INTO notifications (user_id, report_id, kind, data)
        SELECT u, :r, :k, CAST(:d AS jsonb) FROM unnest(CAST(:ids AS bigint[])) AS u
    """), {"ids": ids, "r": report_id, "k": kind,
           "d": json.dumps(data or {}, default=str, ensure_ascii=False)})


def supervisors_by_depth_for_areas(session: Session, area_codes: list[str | None]):
    """supervisors_by_depth for many areas in one statement: (area_code, user id, depth)."""
    return session.execute(text("""
        SELECT a.area AS area_code, u.id, max(length(s)) AS depth
          FROM unnest(CAST(:areas AS text[])) AS a(area)
          JOIN users u ON u.role = 'supervisor' AND u.disabled_at IS NULL
          CROSS JOIN LATERAL unnest(u.scopes) AS s
         WHERE s = '' OR (a.area IS NOT NULL AND starts_with(a.area, s))
         GROUP BY a.area, u.id
    """), {"areas": list(area_codes)}).mappings().all()


def status_of(session: Session, report_id: uuid.UUID) -> str | None:
    return session.execute(text("SELECT status FROM reports WHERE id = :id"),
                           {"id": report_id}).scalar()
