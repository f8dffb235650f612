"""Every SQL statement of Open311: the services (categories), and service requests (cases) as
the spec shows them, with their public note and a public photo, filtered as the spec says."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from .. import clock
from ..users.queries import scope_predicate
from ..users.rules import Principal


def list_services(session: Session, code: str | None = None):
    params: dict = {}
    where = "active"
    if code is not None:
        params["code"] = code
        where += " AND code = :code"
    return session.execute(text(f"""
        SELECT code, kind, major_name, major_name_en, name, name_en FROM categories
         WHERE {where} ORDER BY code
    """), params).mappings().all()


# Only what staff wrote or marked for the public leaves: the public reply (never the internal
# note, which may hold a phone number or a name) and photos marked public (a worker's photo may
# show a licence plate or a face)
_REQUEST_COLUMNS = """
    r.id, r.number, r.status, r.category_code, k.name AS service_name, r.description,
    d.name AS agency, r.received_at, r.updated_at, r.closed_at, r.due_at, r.address,
    ST_X(r.location) AS lon, ST_Y(r.location) AS lat,
    (SELECT e.public_note FROM case_events e
      WHERE e.report_id = r.id AND e.public_note IS NOT NULL
      ORDER BY e.id DESC LIMIT 1) AS public_note,
    (SELECT p.id FROM photos p
      WHERE p.report_id = r.id AND p.display_key IS NOT NULL AND p.public_at IS NOT NULL
      ORDER BY p.uploaded_at, p.id LIMIT 1) AS photo_id,
    (SELECT m.media_url FROM open311_media m WHERE m.report_id = r.id) AS posted_media_url
"""


def _visibility(principal: Principal | None, params: dict) -> str:
    """A client's key sees the cases of its scope (invariant 4); without a key, only what came
    in through Open311 is public."""
    if principal is None:
        return "r.source = 'open311'"
    return scope_predicate(principal, params)


def list_requests(session: Session, principal: Principal | None, *, numbers=None,
                  service_codes=None, start: datetime | None = None,
                  end: datetime | None = None, statuses=None, limit: int):
    params: dict = {"limit": limit}
    where = [_visibility(principal, params)]
    if numbers is not None:  # service_request_id overrides every other argument
        params["numbers"] = list(numbers)
        where.append("r.number = ANY(:numbers)")
    else:
        if service_codes:
            params["codes"] = list(service_codes)
            where.append("r.category_code = ANY(:codes)")
        if start is not None:
            params["start"] = start
            where.append("r.received_at >= :start")
        if end is not None:
            params["end"] = end
            where.append("r.received_at <= :end")
        if statuses:
            params["statuses"] = list(statuses)
            where.append("r.status = ANY(:statuses)")
    return session.execute(text(f"""
        SELECT {_REQUEST_COLUMNS}
          FROM reports r JOIN categories k ON k.code = r.category_code
          LEFT JOIN departments d ON d.code = r.department_code
         WHERE {" AND ".join(where)}
         ORDER BY r.received_at DESC, r.number DESC LIMIT :limit
    """), params).mappings().all()


def insert_media(session: Session, report_id, media_url: str) -> None:
    """The media_url a client posted with its request (this table's one writer)."""
    session.execute(text("""
        INSERT INTO open311_media (report_id, media_url, created_at)
        VALUES (:id, :url, :now) ON CONFLICT (report_id) DO NOTHING
    """), {"id": report_id, "url": media_url, "now": clock.now()})


def number_of(session: Session, principal: Principal | None, report_id) -> int | None:
    """The case number of a case (by its id, the token) the caller may see."""
    params: dict = {"id": str(report_id)}
    vis = _visibility(principal, params)
    return session.execute(text(
        f"SELECT r.number FROM reports r WHERE r.id = CAST(:id AS uuid) AND {vis}"),
        params).scalar()


def is_public(session: Session, report_id, photo_id) -> bool:
    """A photo is public when staff marked it so, on a case Open311 shows without a key."""
    return bool(session.execute(text("""
        SELECT r.source = 'open311' AND p.public_at IS NOT NULL
          FROM reports r JOIN photos p ON p.report_id = r.id
         WHERE r.id = :id AND p.id = :photo
    """), {"id": report_id, "photo": photo_id}).scalar())


def client_users(session: Session):
    return session.execute(text("""
        SELECT u.username, u.display_name, u.scopes, u.created_at, u.disabled_at,
               (SELECT count(*) FROM reports r WHERE r.reporter_id = u.id) AS requests
          FROM users u WHERE u.role = 'client' ORDER BY u.username
    """)).mappings().all()
