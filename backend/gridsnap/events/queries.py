"""Every SQL statement that writes or reads the audit trail (case_events): the one writer.

Writers inside a larger statement (intake, a photo upload, the overdue sweep) take their
INSERT from `insert_cte`, so the columns and defaults of an event are stated here only.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from .. import clock

_COLUMNS = ("report_id", "at", "actor_id", "action", "from_status", "to_status", "note",
            "public_note", "department_code", "client_action_id", "data")


@dataclass
class Event:
    """One row of a case's trail, as a service decides it."""

    report_id: uuid.UUID
    action: str
    actor_id: int | None = None
    from_status: str | None = None
    to_status: str | None = None
    note: str | None = None
    public_note: str | None = None  # the public reply: what Open311 shows as status_notes
    department_code: str | None = None
    client_action_id: uuid.UUID | None = None
    data: dict = field(default_factory=dict)
    at: datetime | None = None  # None: the application's clock when written


def _insert_from_json(param: str) -> str:
    return f"""
    INSERT INTO case_events (report_id, at, actor_id, action, from_status, to_status, note,
                             public_note, department_code, client_action_id, data)
    SELECT x.report_id, x.at, x.actor_id, x.action, x.from_status, x.to_status,
           x.note, x.public_note, x.department_code, x.client_action_id, coalesce(x.data, '{{}}')
      FROM ROWS FROM (jsonb_to_recordset(CAST(:{param} AS jsonb)) AS (
               report_id uuid, at timestamptz, actor_id bigint, action text, from_status text,
               to_status text, note text, public_note text, department_code text,
               client_action_id uuid, data jsonb))
           WITH ORDINALITY AS x(report_id, at, actor_id, action, from_status, to_status, note,
                                public_note, department_code, client_action_id, data, n)
     ORDER BY x.n
    """


def rows_json(events: list[Event]) -> str:
    """The events as the JSON parameter of `insert_events` or `insert_json_cte`."""
    now = clock.now()
    return json.dumps([
        {"report_id": str(e.report_id), "at": (e.at or now).isoformat(),
         "actor_id": e.actor_id, "action": e.action, "from_status": e.from_status,
         "to_status": e.to_status, "note": e.note, "public_note": e.public_note,
         "department_code": e.department_code,
         "client_action_id": str(e.client_action_id) if e.client_action_id else None,
         "data": e.data} for e in events], default=str, ensure_ascii=False)


_INSERT_MANY = text(_insert_from_json("rows"))


def insert_events(session: Session, events: list[Event]) -> None:
    """Append events to the trail in one statement, in the order given."""
    if events:
        session.execute(_INSERT_MANY, {"rows": rows_json(events)})


def insert_json_cte(name: str, param: str) -> str:
    """`name AS (INSERT ...)` for a WITH clause: the events of the JSON parameter `param`
    (made by rows_json), in order."""
    return f"{name} AS ({_insert_from_json(param)})"


def insert_cte(name: str, *, source: str, report_id: str, action: str, data: str = "'{}'",
               actor_id: str = "NULL", from_status: str = "NULL", to_status: str = "NULL",
               department_code: str = "NULL", at: str = ":now") -> str:
    """`name AS (INSERT INTO case_events ... SELECT ... FROM source)`, for a WITH clause: one
    event per row of `source`; every other argument is an SQL expression over that row (`action`
    is a literal event name from events.rules). The statement binds :now (the application's
    clock, `clock.now()`) unless `at` says otherwise: one clock for every row (tests move it)."""
    return f"""{name} AS (
        INSERT INTO case_events (report_id, at, actor_id, action, from_status, to_status,
                                 department_code, data)
        SELECT {report_id}, {at}, {actor_id}, '{action}', {from_status}, {to_status},
               {department_code}, {data}
          FROM {source}
    )"""


def find_by_client_action(session: Session, client_action_id: uuid.UUID):
    """The event an action with this client-made id wrote, if any: (report_id, action, actor_id)."""
    return session.execute(text(
        "SELECT report_id, action, actor_id FROM case_events WHERE client_action_id = :c"),
        {"c": client_action_id}).mappings().first()


def list_for_case(session: Session, report_id: uuid.UUID):
    """The trail of one case, oldest first, with each actor's name and role."""
    return session.execute(text("""
        SELECT e.id, e.at, e.action, e.from_status, e.to_status, e.note, e.public_note,
               e.department_code,
               e.data, e.actor_id, u.username AS actor_username,
               u.display_name AS actor_display_name, u.role AS actor_role
          FROM case_events e LEFT JOIN users u ON u.id = e.actor_id
         WHERE e.report_id = :id ORDER BY e.id  -- append-only: insertion order is causal order
    """), {"id": report_id}).mappings().all()


def deadline_events(session: Session, report_id: uuid.UUID):
    """The events of a case that set or marked its running deadline (their data has due_at),
    oldest first: (id, action, at, data)."""
    return session.execute(text("""
        SELECT id, action, at, data FROM case_events
         WHERE report_id = :id AND data ? 'due_at' ORDER BY id
    """), {"id": report_id}).mappings().all()
