"""Every SQL statement about the outbox: the one writer of its rows (a message added alone or
inside a larger statement), the relay's claims, and the marks of enqueued, done or failed."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from .. import clock


def _insert_from_json(param: str) -> str:
    return f"""
    INSERT INTO outbox (topic, payload, available_at, created_at)
    SELECT x.topic, x.payload, x.available_at, x.created_at
      FROM jsonb_to_recordset(CAST(:{param} AS jsonb))
           AS x(topic text, payload jsonb, available_at timestamptz, created_at timestamptz)
    """


Message = tuple[str, dict, "datetime | None"]  # topic, payload, not before (None: at once)


def rows_json(messages: list[Message]) -> str:
    """The messages as the JSON parameter of `add_messages` or `insert_json_cte`."""
    now = clock.now().isoformat()
    return json.dumps([{"topic": t, "payload": p, "available_at": a.isoformat() if a else None,
                        "created_at": now} for t, p, a in messages], default=str)


_ADD = text(_insert_from_json("rows"))


def add_messages(session: Session, messages: list[Message]) -> None:
    """Record follow-up work in the caller's transaction: (topic, payload, available_at) each;
    available_at None means at once, a time means not before (a deadline check)."""
    if messages:
        session.execute(_ADD, {"rows": rows_json(messages)})


def insert_json_cte(name: str, param: str) -> str:
    """`name AS (INSERT ...)` for a WITH clause: the messages of the JSON parameter `param`
    (made by rows_json)."""
    return f"{name} AS ({_insert_from_json(param)})"


def insert_cte(name: str, *, source: str, topic: str, payload: str) -> str:
    """`name AS (INSERT INTO outbox ... SELECT ... FROM source)` for a WITH clause: one message
    of `topic` (a literal from outbox.rules) per row of `source`, `payload` an SQL expression;
    the statement binds :now (the application's clock)."""
    return f"""{name} AS (
        INSERT INTO outbox (topic, payload, created_at)
        SELECT '{topic}', {payload}, :now FROM {source}
    )"""



# The relay's claim: the pending messages in id order, the first `limit` that no other relay
# holds. They come from two work lists merged by id, neither of which holds the messages
# scheduled for later (a deadline check per open case: a claim that walked those grew with the
# open cases, ~5 claims a second even when idle): those to be sent at once (ix_outbox_ready,
# read in id order only as far as the claim goes) and the scheduled ones already due
# (ix_outbox_due, read up to now, sorted by id). Each list is ordered in its own parentheses,
# or PostgreSQL sorts the whole union instead of merging them. Each candidate in turn is
# locked, or skipped if another relay holds it (the LATERAL, kept a subquery by OFFSET 0, runs
# once per candidate until `limit` are taken), and its conditions are checked again on the row
# locked: a message another relay enqueued meanwhile is not taken twice.
_CLAIM = text("""
    SELECT claimed.id, claimed.topic
      FROM (SELECT id
              FROM ((SELECT id FROM outbox
                      WHERE enqueued_at IS NULL AND done_at IS NULL AND failed_at IS NULL
                        AND available_at IS NULL
                      ORDER BY id)
                    UNION ALL
                    (SELECT id FROM outbox
                      WHERE enqueued_at IS NULL AND done_at IS NULL AND failed_at IS NULL
                        AND available_at IS NOT NULL AND available_at <= :now
                      ORDER BY id)) AS lists
             ORDER BY id) AS work
     CROSS JOIN LATERAL (
            SELECT o.id, o.topic FROM outbox o
             WHERE o.id = work.id
               AND o.enqueued_at IS NULL AND o.done_at IS NULL AND o.failed_at IS NULL
               AND (o.available_at IS NULL OR o.available_at <= :now)
            OFFSET 0 FOR UPDATE SKIP LOCKED) AS claimed
     ORDER BY work.id LIMIT :limit
""")


def claim_pending(session: Session, limit: int):
    """Pending messages (none sent yet, not done, not failed, due), the first `limit` by id,
    locked so that two relays never send the same one at once (SKIP LOCKED: another relay
    takes the next ones)."""
    return session.execute(_CLAIM, {"limit": limit, "now": clock.now()}).all()


def mark_enqueued(session: Session, ids_by_job: dict[str, list[int]]) -> None:
    now = clock.now()
    session.execute(text("""
        UPDATE outbox SET enqueued_at = :now, job_id = :job_id WHERE id = ANY(:ids)
    """), [{"job_id": j, "ids": ids, "now": now} for j, ids in ids_by_job.items()])


def in_flight_older_than(session: Session, seconds: int):
    return session.execute(text("""
        SELECT id, job_id FROM outbox
         WHERE enqueued_at IS NOT NULL AND done_at IS NULL AND failed_at IS NULL
           AND enqueued_at < CAST(:now AS timestamptz) - make_interval(secs => :s)
         ORDER BY id LIMIT 10000
    """), {"s": seconds, "now": clock.now()}).all()


def reset_enqueued(session: Session, ids: list[int]) -> int:
    """Make in-flight messages pending again (their job was lost or never reached Redis)."""
    return session.execute(text("""
        UPDATE outbox SET enqueued_at = NULL, job_id = NULL
         WHERE id = ANY(:ids) AND done_at IS NULL AND failed_at IS NULL
    """), {"ids": ids}).rowcount or 0


def load_undone(session: Session, ids: list[int], topic: str):
    return session.execute(text("""
        SELECT id, topic, payload, attempts FROM outbox
         WHERE id = ANY(:ids) AND topic = :topic AND done_at IS NULL AND failed_at IS NULL
         ORDER BY id FOR UPDATE
    """), {"ids": ids, "topic": topic}).mappings().all()


def mark_done(session: Session, ids: list[int]) -> None:
    session.execute(text("UPDATE outbox SET done_at = :now, last_error = NULL "
                         "WHERE id = ANY(:ids)"), {"ids": ids, "now": clock.now()})


def record_failure(session: Session, message_id: int, error: str, *, final: bool,
                   retry_after_s: float) -> None:
    """A failed try: counted; marked failed if `final`, else pending again (the relay sends it
    once `retry_after_s` have passed)."""
    session.execute(text("""
        UPDATE outbox SET attempts = attempts + 1, last_error = :error,
               failed_at = CASE WHEN :final THEN CAST(:now AS timestamptz) END,
               enqueued_at = NULL, job_id = NULL,
               available_at = CAST(:now AS timestamptz) + make_interval(secs => :after)
         WHERE id = :id
    """), {"id": message_id, "error": error[:4000], "final": final, "now": clock.now(),
          "after": retry_after_s})


def postpone(session: Session, ids: list[int], error: str, min_s: int, max_s: int) -> None:
    """Back to pending, not before as long again as each message has waited (between min_s
    and max_s): back-off without counting an attempt (a passing fault, outbox.rules)."""
    session.execute(text("""
        UPDATE outbox SET enqueued_at = NULL, job_id = NULL, last_error = :error,
               available_at = CAST(:now AS timestamptz) + make_interval(secs => LEAST(GREATEST(
                   EXTRACT(epoch FROM CAST(:now AS timestamptz) - created_at), :min_s), :max_s))
         WHERE id = ANY(:ids) AND done_at IS NULL
    """), {"ids": ids, "error": error[:4000], "min_s": min_s, "max_s": max_s,
          "now": clock.now()})


def backlog(session: Session):
    return session.execute(text("""
        SELECT topic,
               count(*) FILTER (WHERE enqueued_at IS NULL AND done_at IS NULL
                                AND failed_at IS NULL
                                AND (available_at IS NULL OR available_at <= :now))
                   AS pending,
               count(*) FILTER (WHERE enqueued_at IS NULL AND done_at IS NULL
                                AND available_at > :now) AS scheduled,
               count(*) FILTER (WHERE enqueued_at IS NOT NULL AND done_at IS NULL
                                AND failed_at IS NULL) AS in_flight,
               count(*) FILTER (WHERE failed_at IS NOT NULL) AS failed,
               count(*) FILTER (WHERE done_at IS NOT NULL) AS done
          FROM outbox GROUP BY topic ORDER BY topic
    """), {"now": clock.now()}).mappings().all()


def failed_messages(session: Session, limit: int = 50):
    return session.execute(text("""
        SELECT id, topic, payload, attempts, failed_at, last_error FROM outbox
         WHERE failed_at IS NOT NULL ORDER BY failed_at DESC LIMIT :limit
    """), {"limit": limit}).mappings().all()


def retry_failed(session: Session) -> int:
    return session.execute(text("""
        UPDATE outbox SET failed_at = NULL, enqueued_at = NULL, job_id = NULL, attempts = 0
         WHERE failed_at IS NOT NULL
    """)).rowcount or 0
