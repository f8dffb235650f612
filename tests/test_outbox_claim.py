"""The relay's claim and /health's backlog read the work to do, never the messages scheduled for
later: a deadline check waits in the outbox for every open case, and neither the claim (several
times a second) nor the probe (every second on every node) may grow with them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from gridsnap import clock
from gridsnap.health import queries as health_queries
from gridsnap.outbox import queries
from gridsnap.outbox.rules import EXHAUSTED

# /health's backlog as it was first written: one pass over every message not done. The counts
# of the statement that replaced it must be these, row for row.
_BACKLOG_BY_DEFINITION = text("""
    SELECT count(*) FILTER (WHERE failed_at IS NULL
                             AND (available_at IS NULL OR available_at <= :now)) AS pending,
           count(*) FILTER (WHERE failed_at IS NOT NULL) AS failed,
           count(*) FILTER (WHERE failed_at IS NULL
                             AND starts_with(last_error, :exhausted)) AS postponed
      FROM outbox WHERE done_at IS NULL
""")

# (name, available_at in minutes from now or None, enqueued, done, failed, last_error)
_MESSAGES = [
    ("ready", None, False, False, False, None),
    ("future", 60, False, False, False, None),
    ("due", -5, False, False, False, None),
    ("in_flight", None, True, False, False, None),
    ("done", None, True, True, False, None),
    ("failed_past", -1, False, False, True, "ValueError: bad"),
    ("failed_future", 30, False, False, True, "ValueError: bad"),
    ("postponed", 2, False, False, False, EXHAUSTED + "OSError: [Errno 28] no space"),
    ("postponed_due", -2, False, False, False, EXHAUSTED + "OSError: [Errno 28] no space"),
    ("postponed_sent", -3, True, False, False, EXHAUSTED + "MemoryError"),
    ("retry_later", 10, False, False, False, "KeyError: 'x'"),
    ("retry_due", -10, False, False, False, "KeyError: 'x'"),
    ("ready_again", None, False, False, False, None),
    ("due_late", -1, False, False, False, None),
    ("future_far", 60 * 24 * 30, False, False, False, None),
]


def _insert(conn, now) -> dict[str, int]:
    """The messages of _MESSAGES in that order (ids ascending); their ids by name."""
    ids = {}
    for name, minutes, enqueued, done, failed, error in _MESSAGES:
        ids[name] = conn.execute(text("""
            INSERT INTO outbox (topic, payload, created_at, available_at, enqueued_at, done_at,
                                failed_at, last_error)
            VALUES ('report.submitted', CAST(:payload AS jsonb), :now, :available_at,
                    CASE WHEN :enqueued THEN CAST(:now AS timestamptz) END,
                    CASE WHEN :done THEN CAST(:now AS timestamptz) END,
                    CASE WHEN :failed THEN CAST(:now AS timestamptz) END, :error)
            RETURNING id
        """), {"payload": f'{{"name": "{name}"}}', "now": now, "enqueued": enqueued,
               "done": done, "failed": failed, "error": error,
               "available_at": None if minutes is None else now + timedelta(minutes=minutes)}
        ).scalar_one()
    return ids


def _schedule_many(conn, now, n: int) -> None:
    """n deadline checks due from a day to a few days ahead, in one statement."""
    conn.execute(text("""
        INSERT INTO outbox (topic, payload, created_at, available_at)
        SELECT 'case.deadline', jsonb_build_object('report_id', g), CAST(:now AS timestamptz),
               CAST(:now AS timestamptz) + interval '1 day' + g * interval '10 s'
          FROM generate_series(1, :n) g
    """), {"now": now, "n": n})
    conn.execute(text("ANALYZE outbox"))


_PENDING_IN_ORDER = ["ready", "due", "postponed_due", "retry_due", "ready_again", "due_late"]


def test_claim_takes_the_unsent_and_the_due_in_id_order_never_the_future(runtime):
    now = clock.now()
    with runtime.engine.begin() as conn:
        ids = _insert(conn, now)
    with runtime.sessions() as session:
        claimed = queries.claim_pending(session, 100)
        session.rollback()
        assert [r.id for r in claimed] == [ids[n] for n in _PENDING_IN_ORDER]
        assert {r.topic for r in claimed} == {"report.submitted"}
        # the limit takes the first ones by id, whichever list they come from
        assert [r.id for r in queries.claim_pending(session, 3)] == [
            ids["ready"], ids["due"], ids["postponed_due"]]
        session.rollback()


def test_claim_skips_what_another_relay_holds_and_takes_the_next(runtime):
    now = clock.now()
    with runtime.engine.begin() as conn:
        ids = _insert(conn, now)
    with runtime.sessions() as first, runtime.sessions() as second:
        taken = [r.id for r in queries.claim_pending(first, 2)]
        assert taken == [ids["ready"], ids["due"]]
        # the second relay goes on past the locked ones, in the same order
        assert [r.id for r in queries.claim_pending(second, 3)] == [
            ids["postponed_due"], ids["retry_due"], ids["ready_again"]]
        second.rollback()
        # the first relay's messages sent and committed: not pending any more
        queries.mark_enqueued(first, {"job-1": taken})
        first.commit()
        assert [r.id for r in queries.claim_pending(second, 100)] == [
            ids[n] for n in _PENDING_IN_ORDER if ids[n] not in taken]
        second.rollback()


def test_a_scheduled_message_is_claimed_once_its_time_has_come(runtime, at):
    now = clock.now()
    at(now)
    with runtime.engine.begin() as conn:
        ids = _insert(conn, now)
    with runtime.sessions() as session:
        before = {r.id for r in queries.claim_pending(session, 100)}
        session.rollback()
        at(now + timedelta(minutes=61))
        after = {r.id for r in queries.claim_pending(session, 100)}
        session.rollback()
    assert ids["future"] not in before and ids["future"] in after
    assert after - before == {ids["future"], ids["postponed"], ids["retry_later"]}
    assert ids["future_far"] not in after and ids["failed_future"] not in after


def _plan(conn, statement: str, params: dict) -> dict:
    return conn.execute(text("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement),
                        params).scalar_one()[0]["Plan"]


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _rows_read(plan: dict) -> int:
    """Index and heap entries the scans of the plan read: rows they returned or filtered out,
    over all their loops."""
    return sum((n.get("Actual Rows", 0) + n.get("Rows Removed by Filter", 0))
               * n.get("Actual Loops", 1)
               for n in _nodes(plan) if "Relation Name" in n)


def test_claim_reads_no_scheduled_message(runtime):
    now = clock.now()
    with runtime.engine.begin() as conn:
        ids = _insert(conn, now)
        _schedule_many(conn, now, 20_000)
    with runtime.engine.connect() as conn:
        claimed = conn.execute(queries._CLAIM, {"now": now, "limit": 2000}).all()
        conn.rollback()
        assert [r.id for r in claimed] == [ids[n] for n in _PENDING_IN_ORDER]
        plan = _plan(conn, queries._CLAIM.text, {"now": now, "limit": 2000})
        conn.rollback()
    indexes = {n.get("Index Name") for n in _nodes(plan)}
    assert {"ix_outbox_ready", "ix_outbox_due"} <= indexes, plan
    # the six pending messages, each read from its work list and once more to be locked
    assert _rows_read(plan) <= 2 * len(_PENDING_IN_ORDER), plan
    buffers = plan["Shared Hit Blocks"] + plan["Shared Read Blocks"]
    assert buffers < 60, plan  # ~6 a message claimed; the 20,000 scheduled: ~220


def test_health_counts_the_backlog_as_defined_reading_no_scheduled_message(runtime):
    now = clock.now()
    with runtime.engine.begin() as conn:
        _insert(conn, now)
    params = {"now": now, "exhausted": EXHAUSTED}
    with runtime.sessions() as session:
        facts = health_queries.database_facts(session, now)
    with runtime.engine.connect() as conn:
        expected = conn.execute(_BACKLOG_BY_DEFINITION, params).mappings().one()
    assert {k: facts[k] for k in ("pending", "failed", "postponed")} == dict(expected)
    assert dict(expected) == {"pending": 8, "failed": 2, "postponed": 3}
    with runtime.engine.begin() as conn:
        _schedule_many(conn, now, 20_000)
    with runtime.sessions() as session:
        facts = health_queries.database_facts(session, now)
    assert {k: facts[k] for k in ("pending", "failed", "postponed")} == dict(expected)
    with runtime.engine.connect() as conn:
        statement = f"SELECT backlog.* FROM {health_queries._OUTBOX}"
        plan = _plan(conn, statement, params)
    # the 15 messages in flight, to be sent, due, failed or after an error, nothing else
    assert _rows_read(plan) <= 15, plan
    assert plan["Shared Hit Blocks"] + plan["Shared Read Blocks"] < 30, plan
