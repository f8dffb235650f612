"""Follow-up jobs for new reports: first routing (精准派单 suggestion, the accept deadline,
auto-accept and auto-dispatch per category) and the search for possible duplicates."""

from __future__ import annotations

import json
import logging
from datetime import UTC, time

from sqlalchemy import text
from sqlalchemy.orm import Session

from ..deadlines.rules import TimeLimit, WorkCalendar, due_at

log = logging.getLogger(__name__)

_UNROUTED = text("""
    SELECT r.id, r.number, r.status, r.received_at, r.area_code, r.category_code,
           c.department_code AS category_department, c.time_limits, c.auto_accept,
           c.auto_dispatch
      FROM reports r JOIN categories c ON c.code = r.category_code
     WHERE r.id = ANY(CAST(:ids AS uuid[])) AND r.routed_at IS NULL
     ORDER BY r.number
     FOR UPDATE OF r
""")


def work_calendar(settings) -> WorkCalendar:
    start, end = settings.business_hours
    return WorkCalendar(tz=settings.timezone, day_start=time.fromisoformat(start),
                        day_end=time.fromisoformat(end))


def route_reports(session: Session, rt, report_ids: list[str]) -> int:
    """First routing of new reports. Idempotent: a routed report is left alone.

    Each gets the department the routing rules suggest (rule → category default → the area's
    supervisors), its accept deadline (限时办理) with a scheduled check, and, where its category
    says so, is accepted and dispatched at once. Returns how many were routed.
    """
    from .. import clock
    from ..cases import queries as cq
    from ..cases.service import supervisors_to_notify
    from ..routing.service import route_case

    cal = work_calendar(rt.settings)
    now = clock.now()
    rows = session.execute(_UNROUTED, {"ids": list(report_ids)}).mappings().all()
    for r in rows:
        received = r["received_at"]
        if received.tzinfo is None:
            received = received.replace(tzinfo=UTC)
        route = route_case(session, category_code=r["category_code"], area_code=r["area_code"],
                           category_department=r["category_department"])
        changes = {"suggested_department_code": route.department_code,
                   "routing_rule_id": route.rule_id, "routing_source": route.source,
                   "routed_at": now, "stage": "accept", "stage_started_at": received,
                   "due_at": due_at(received, TimeLimit.from_dict(r["time_limits"]["accept"]),
                                    cal)}
        events = [("report.routed", "reported", "reported", {
            "suggested_department": route.department_code, "routing_source": route.source,
            "routing_rule_id": route.rule_id, "due_at": changes["due_at"].isoformat(),
            "stage": "accept"})]
        status = "reported"
        if r["auto_accept"]:
            changes.update(status="accepted", accepted_at=now)
            events.append(("case.accepted", "reported", "accepted", {"auto": True}))
            status = "accepted"
            if r["auto_dispatch"] and route.department_code:
                handle_due = due_at(now, TimeLimit.from_dict(r["time_limits"]["handle"]), cal)
                changes.update(status="dispatched", department_code=route.department_code,
                               dispatched_at=now, stage="handle", stage_started_at=now,
                               due_at=handle_due)
                events.append(("case.dispatched", "accepted", "dispatched", {
                    "auto": True, "routing_source": route.source,
                    "routing_rule_id": route.rule_id, "stage": "handle",
                    "due_at": handle_due.isoformat()}))
                status = "dispatched"
        cq.update_case(session, r["id"], changes)
        for action, frm, to, data in events:
            cq.insert_event(session, report_id=r["id"], actor_id=None, action=action,
                            from_status=frm, to_status=to, data=data,
                            department_code=changes.get("department_code"), at=now)
        cq.add_outbox(session, "case.deadline", {
            "report_id": str(r["id"]), "stage": changes["stage"],
            "due_at": changes["due_at"].isoformat()}, available_at=changes["due_at"])
        info = {"number": r["number"], "category": r["category_code"]}
        if status == "dispatched":
            cq.notify(session, cq.handlers_of(session, route.department_code), r["id"],
                      "case.dispatched", info)
        else:
            cq.notify(session, supervisors_to_notify(session, r["area_code"]), r["id"],
                      "case.reported" if status == "reported" else "case.to_dispatch", info)
    return len(rows)


_LINK_DUPLICATES = text("""
    INSERT INTO case_links (report_id, other_id, distance_m)
    SELECT n.id, o.id, ST_Distance(n.location::geography, o.location::geography)
      FROM reports n
      JOIN categories c ON c.code = n.category_code
      JOIN reports o
        ON o.category_code = n.category_code AND o.id <> n.id
       AND o.status IN ('reported', 'accepted', 'dispatched', 'returned', 'resolved')
       AND (o.received_at, o.number) < (n.received_at, n.number)
       AND o.received_at >= n.received_at - make_interval(days => :window_days)
       -- the index finds candidates in a box a little larger than the radius,
       -- the geography distance then decides in metres
       AND ST_DWithin(o.location, n.location, c.duplicate_radius_m / 80000.0)
       AND ST_DWithin(o.location::geography, n.location::geography, c.duplicate_radius_m)
     WHERE n.id = ANY(CAST(:ids AS uuid[])) AND c.duplicate_radius_m > 0
    ON CONFLICT DO NOTHING
    RETURNING report_id, other_id, distance_m
""")


def find_duplicates(session: Session, rt, report_ids: list[str]) -> int:
    """Link each new report to earlier open cases of its category nearby (per-category radius,
    default 50 m) within the time window (default 7 days). Idempotent. Returns links made."""
    rows = session.execute(_LINK_DUPLICATES, {
        "ids": list(report_ids), "window_days": rt.settings.duplicate_window_days}).all()
    if rows:
        session.execute(text("""
            INSERT INTO case_events (report_id, action, data)
            SELECT CAST(x->>'r' AS uuid), 'case.possible_duplicate',
                   jsonb_build_object('other_id', x->>'o', 'distance_m', (x->>'d')::float8)
              FROM jsonb_array_elements(CAST(:links AS jsonb)) AS x
        """), {"links": json.dumps(
            [{"r": str(r.report_id), "o": str(r.other_id), "d": r.distance_m} for r in rows])})
    return len(rows)
