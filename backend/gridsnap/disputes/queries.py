"""Every SQL statement about disputes: the one writer of disputes, dispute_parties and
dispute_steps, the reads (always under the visibility predicate), the escalation sweep and the
figures."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from .. import clock
from ..grid.queries import LOCATE_CTE
from ..grid.rules import PREFIX_LENGTH
from ..notifications import queries as notices
from ..notifications.rules import Notice
from . import rules

_COLUMNS = """
    d.id, d.number, d.reporter_id, u.display_name AS reporter_name, d.kind, d.risk,
    d.description, d.address, ST_X(d.location) AS lon, ST_Y(d.location) AS lat, d.accuracy_m,
    d.area_code, a.name AS area_name, d.captured_at, d.received_at, d.fingerprint, d.status,
    d.accept_due_at, d.accepted_at, d.resolve_due_at, d.resolved_at, d.follow_up_due_at,
    d.closed_at, d.escalated_at, d.agreement, d.transferred_to, d.transferred_body
"""
_JOINS = """
    JOIN users u ON u.id = d.reporter_id
    LEFT JOIN areas a ON a.code = d.area_code
"""

_INSERT = text(f"""
    WITH {LOCATE_CTE},
    ins AS (
        INSERT INTO disputes (id, reporter_id, kind, risk, description, address, location,
                              accuracy_m, area_code, captured_at, received_at, fingerprint,
                              status, accept_due_at)
        SELECT :id, :reporter_id, :kind, :risk, :description, :address, pt.g, :accuracy_m,
               (SELECT code FROM hit), :captured_at, :now, :fingerprint, 'reported',
               :accept_due_at
          FROM pt
        ON CONFLICT (id) DO NOTHING
        RETURNING id, area_code
    ),
    parties AS (
        INSERT INTO dispute_parties (dispute_id, position, name, phone)
        SELECT ins.id, p.position, p.name, p.phone
          FROM ins, jsonb_to_recordset(CAST(:parties AS jsonb))
                    AS p(position smallint, name text, phone text)
    ),
    step AS (
        INSERT INTO dispute_steps (dispute_id, at, actor_id, action, to_status, data)
        SELECT ins.id, :now, :reporter_id, :event, 'reported', CAST(:event_data AS jsonb)
          FROM ins
    )
    SELECT id, area_code FROM ins
""")


def insert_dispute(session: Session, params: dict, parties: list[dict]):
    """Insert a dispute, its parties and its first step in one statement, the place found by
    the grid's lookup (invariant 3). Returns (id, area_code), or None when the id is taken."""
    return session.execute(_INSERT, {
        **params, "now": clock.now(),
        "parties": json.dumps([{"position": i, "name": p["name"], "phone": p.get("phone")}
                               for i, p in enumerate(parties)], ensure_ascii=False),
        "event_data": json.dumps({"kind": params["kind"], "risk": params["risk"]}),
    }).first()


def find_dispute(session: Session, dispute_id: uuid.UUID, *, lock: bool = False):
    lock_sql = " FOR UPDATE OF d" if lock else ""
    return session.execute(text(
        f"SELECT {_COLUMNS} FROM disputes d {_JOINS} WHERE d.id = :id{lock_sql}"),
        {"id": dispute_id}).mappings().first()


def parties_of(session: Session, dispute_ids: list) -> dict:
    """{dispute id: [party, ...]} in their order."""
    out: dict = {i: [] for i in dispute_ids}
    if not dispute_ids:
        return out
    for row in session.execute(text("""
        SELECT dispute_id, name, phone FROM dispute_parties
         WHERE dispute_id = ANY(:ids) ORDER BY dispute_id, position
    """), {"ids": dispute_ids}).mappings():
        out[row["dispute_id"]].append({"name": row["name"], "phone": row["phone"]})
    return out


_STEPS = """
    SELECT s.dispute_id, s.id, s.at, s.actor_id, u.display_name AS actor_name, s.action,
           s.from_status, s.to_status, s.note, s.data
      FROM dispute_steps s LEFT JOIN users u ON u.id = s.actor_id
     WHERE s.dispute_id = ANY(:ids) ORDER BY s.dispute_id, s.at, s.id
"""


def steps_of(session: Session, dispute_id: uuid.UUID):
    return steps_of_many(session, [dispute_id])[dispute_id]


def steps_of_many(session: Session, dispute_ids: list) -> dict:
    """{dispute id: [step, ...]} in the order they were taken, in one statement."""
    out: dict = {i: [] for i in dispute_ids}
    if not dispute_ids:
        return out
    for row in session.execute(text(_STEPS), {"ids": dispute_ids}).mappings():
        step = dict(row)
        out[step.pop("dispute_id")].append(step)
    return out


def step_by_client_id(session: Session, dispute_id: uuid.UUID, client_step_id: uuid.UUID):
    """The step this phone's id already took on the dispute (a replay), or None."""
    return session.execute(text("""
        SELECT id, action FROM dispute_steps
         WHERE dispute_id = :id AND data->>'client_step_id' = :cid
    """), {"id": dispute_id, "cid": str(client_step_id)}).mappings().first()


def visible_predicate(principal_id: int | None, area_scopes: tuple[str, ...], params: dict,
                      alias: str = "d") -> str:
    """SQL: the disputes a principal sees — reported by them (unless principal_id is None),
    or in the area they mediate or oversee (disputes.rules.area_scopes)."""
    params["vis_uid"] = -1 if principal_id is None else principal_id
    params["vis_city"] = "" in area_scopes
    params["vis_patterns"] = [s + "%" for s in area_scopes if s]
    return (f"({alias}.reporter_id = :vis_uid OR :vis_city "
            f"OR {alias}.area_code LIKE ANY(CAST(:vis_patterns AS text[])))")


def list_disputes(session: Session, principal_id: int, area_scopes: tuple[str, ...], *,
                  statuses: list[str] | None, mine: bool, page: int, page_size: int):
    """A page of the disputes the principal sees, newest first, and their total."""
    params: dict = {"statuses": statuses, "mine": mine, "limit": page_size,
                    "offset": (page - 1) * page_size}
    vis = visible_predicate(principal_id, area_scopes, params)
    where = f"""{vis}
        AND (CAST(:statuses AS text[]) IS NULL OR d.status = ANY(CAST(:statuses AS text[])))
        AND (NOT :mine OR d.reporter_id = :vis_uid)"""
    total = session.execute(text(f"SELECT count(*) FROM disputes d WHERE {where}"),
                            params).scalar_one()
    rows = session.execute(text(f"""
        SELECT {_COLUMNS} FROM disputes d {_JOINS} WHERE {where}
         ORDER BY d.received_at DESC, d.number DESC LIMIT :limit OFFSET :offset
    """), params).mappings().all()
    return rows, total


def apply_step(session: Session, dispute_id: uuid.UUID, *, actor_id: int, event: str,
               from_status: str | None, to_status: str | None, note: str | None, data: dict,
               changes: dict) -> None:
    """The dispute's columns changed by a step and the step on its trail, in one statement."""
    allowed = {"status", "accepted_at", "resolve_due_at", "resolved_at", "follow_up_due_at",
               "closed_at", "agreement", "transferred_to", "transferred_body", "escalated_at"}
    assert set(changes) <= allowed, set(changes) - allowed
    params = {"id": dispute_id, "actor": actor_id, "event": event, "from": from_status,
              "to": to_status, "note": note, "data": json.dumps(data, default=str,
                                                                 ensure_ascii=False),
              "now": clock.now(), **{f"c_{k}": v for k, v in changes.items()}}
    sets = ", ".join(f"{k} = :c_{k}" for k in changes)
    update = (f"upd AS (UPDATE disputes SET {sets} WHERE id = :id RETURNING id),"
              if sets else "")
    session.execute(text(f"""
        WITH {update}
        step AS (
            INSERT INTO dispute_steps (dispute_id, at, actor_id, action, from_status,
                                       to_status, note, data)
            VALUES (:id, :now, :actor, :event, :from, :to, :note, CAST(:data AS jsonb))
        )
        SELECT 1
    """), params)


def staff_of(session: Session, area_code: str | None, *, mediate_roles, oversee_roles,
             oversee_max_length: int) -> dict[str, list[int]]:
    """Who works a dispute of this area: {"mediators": the mediators whose scope covers it,
    "office": the 综治 office — overseers whose scope covers it and is no longer than
    `oversee_max_length`}. Active users only."""
    rows = session.execute(text("""
        SELECT u.id, u.role = ANY(:mediate) AS mediates
          FROM users u
         WHERE u.disabled_at IS NULL AND u.role = ANY(:roles)
           AND EXISTS (SELECT 1 FROM unnest(u.scopes) s
                        WHERE (s = '' OR coalesce(:area, '') LIKE s || '%')
                          AND (u.role = ANY(:mediate) OR length(s) <= :maxlen))
    """), {"area": area_code, "mediate": list(mediate_roles),
           "roles": sorted(set(mediate_roles) | set(oversee_roles)),
           "maxlen": oversee_max_length}).all()
    return {"mediators": [r.id for r in rows if r.mediates],
            "office": [r.id for r in rows if not r.mediates]}


def add_notices(session: Session, found: list[Notice]) -> None:
    notices.add_notices(session, found)


def unattended_volatile(session: Session, now: datetime, limit: int = 500):
    """可能激化 disputes still not accepted past their acceptance deadline, not yet escalated,
    locked (skipping those another sweep holds)."""
    return session.execute(text(f"""
        SELECT {_COLUMNS} FROM disputes d {_JOINS}
         WHERE d.status = 'reported' AND d.risk = :volatile AND d.escalated_at IS NULL
           AND d.accept_due_at <= :now
         ORDER BY d.accept_due_at LIMIT :limit
           FOR UPDATE OF d SKIP LOCKED
    """), {"now": now, "limit": limit, "volatile": rules.VOLATILE}).mappings().all()


# the figures' groupings (rules.GROUPINGS): a street's and a community's code are prefixes
GROUP_SQL = {"kind": "d.kind",
             "street": f"left(d.area_code, {PREFIX_LENGTH['street']})",
             "community": f"left(d.area_code, {PREFIX_LENGTH['community']})"}


def figures(session: Session, area_scopes: tuple[str, ...], *, start: datetime, end: datetime,
            by: str, area_prefix: str):
    """Counts without details over the disputes found (received) in [start, end) in the area
    the principal mediates or oversees under `area_prefix`, grouped `by` (GROUP_SQL): found,
    resolved (an agreement), resolved on time, transferred, open."""
    group_sql = GROUP_SQL[by]
    params: dict = {"start": start, "end": end, "pattern": area_prefix + "%",
                    "resolved": list(rules.RESOLVED_STATUSES),
                    "open": list(rules.OPEN_STATUSES)}
    vis = visible_predicate(None, area_scopes, params)
    return session.execute(text(f"""
        SELECT {group_sql} AS key,
               count(*) AS found,
               count(*) FILTER (WHERE d.status = ANY(:resolved)) AS resolved,
               count(*) FILTER (WHERE d.status = ANY(:resolved)
                                  AND d.resolved_at <= d.resolve_due_at) AS resolved_on_time,
               count(*) FILTER (WHERE d.status = 'transferred') AS transferred,
               count(*) FILTER (WHERE d.status = ANY(:open)) AS open
          FROM disputes d
         WHERE d.received_at >= :start AND d.received_at < :end
           AND (:pattern = '%' OR d.area_code LIKE :pattern)
           AND {vis}
         GROUP BY 1 ORDER BY 1 NULLS LAST
    """), params).mappings().all()


# --- the photos of the signed agreement (人民调解协议书) ----------------------------------------

_PHOTO_COLUMNS = """
    p.id, p.dispute_id, p.uploader_id, u.display_name AS uploader_name, p.sha256,
    p.content_type, p.size_bytes, p.width, p.height, p.original_key, p.thumb_key,
    p.display_key, p.uploaded_at
"""


def find_photo(session: Session, photo_id: uuid.UUID):
    return session.execute(text(f"""
        SELECT {_PHOTO_COLUMNS} FROM dispute_photos p JOIN users u ON u.id = p.uploader_id
         WHERE p.id = :id
    """), {"id": photo_id}).mappings().first()


def photos_of(session: Session, dispute_ids: list) -> dict:
    """{dispute id: [photo, ...]} in the order they came, in one statement."""
    out: dict = {i: [] for i in dispute_ids}
    if not dispute_ids:
        return out
    for row in session.execute(text(f"""
        SELECT {_PHOTO_COLUMNS} FROM dispute_photos p JOIN users u ON u.id = p.uploader_id
         WHERE p.dispute_id = ANY(:ids) ORDER BY p.dispute_id, p.uploaded_at, p.id
    """), {"ids": dispute_ids}).mappings():
        out[row["dispute_id"]].append(row)
    return out


def insert_photo(session: Session, params: dict, *, event: str, status: str) -> bool:
    """The photo and its line on the dispute's trail, in one statement. False when the id is
    taken (a replay racing its first sending: the dispute's row lock makes that rare)."""
    data = {"photo_id": str(params["id"]), "sha256": params["sha256"],
            "width": params["width"], "height": params["height"]}
    return session.execute(text("""
        WITH ins AS (
            INSERT INTO dispute_photos (id, dispute_id, uploader_id, sha256, content_type,
                                        size_bytes, width, height, original_key, thumb_key,
                                        display_key, uploaded_at)
            VALUES (:id, :dispute_id, :uploader_id, :sha256, :content_type, :size_bytes,
                    :width, :height, :original_key, :thumb_key, :display_key, :now)
            ON CONFLICT (id) DO NOTHING
            RETURNING id, dispute_id
        ),
        step AS (
            INSERT INTO dispute_steps (dispute_id, at, actor_id, action, from_status, to_status,
                                       data)
            SELECT ins.dispute_id, :now, :uploader_id, :event, :status, :status,
                   CAST(:data AS jsonb)
              FROM ins
        )
        SELECT count(*) FROM ins
    """), {**params, "now": clock.now(), "event": event, "status": status,
           "data": json.dumps(data)}).scalar_one() == 1
