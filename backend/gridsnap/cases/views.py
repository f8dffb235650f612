"""The case read model: case rows as the API shows them, with what the caller may do, their
photos and their links — loaded per page (a constant number of statements), never per row.

Public: report_view, case_views, find_visible_row, get_case, list_cases. Intake, photos, the
map and the exports ask here rather than reading the case columns themselves.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from .. import clock
from ..errors import AppError
from ..photos.rules import photo_view
from ..users.rules import Principal
from . import queries, rules

_LINKED = ("id", "number", "status", "category_code", "received_at", "distance_m", "description",
           "repeat")


def _area(code, name, name_en):
    return None if code is None else {"code": code, "name": name, "name_en": name_en}


def report_view(row) -> dict:
    """A case row as a report: what the field sees (the area chain nested, internals left out)."""
    return {
        "id": row["id"],
        "number": row["number"],
        "status": row["status"],
        "category": row["category_code"],
        "description": row["description"],
        "address": row["address"],
        "location": {"lon": row["lon"], "lat": row["lat"], "accuracy_m": row["accuracy_m"],
                     "source": row["location_source"]},
        "captured_at": row["captured_at"],
        "received_at": row["received_at"],
        "updated_at": row["updated_at"],
        "reporter_id": row["reporter_id"],
        "outside_grid": row["outside_grid"],
        "area_code": row["area_code"],
        "cell": _area(row["cell_code"], row["cell_name"], row["cell_name_en"]),
        "community": _area(row["community_code"], row["community_name"],
                           row["community_name_en"]),
        "street": _area(row["street_code"], row["street_name"], row["street_name_en"]),
        "district": _area(row["district_code"], row["district_name"], row["district_name_en"]),
        "department": row["department_code"],
        "suggested_department": row["suggested_department_code"],
        "due_at": row["due_at"],
        "source": row["source"],
        "nature": row["nature"],
        "urgency": row["urgency"],
    }


def notice_view(n, now: datetime) -> dict:
    """A notice (督办) as the API shows it: open, replied (late or not), overdue."""
    due, replied = rules.instant(n["reply_due_at"]), rules.instant(n["replied_at"])
    out = {k: n[k] for k in ("id", "department_code", "name", "name_en", "issued_by", "note",
                             "replied_by", "reply")}
    out["ground"] = n.get("ground")
    out.update(issued_at=rules.instant(n["issued_at"]), reply_due_at=due, replied_at=replied,
               state="replied" if replied else ("overdue" if now > due else "open"),
               late=(replied > due) if replied else None)
    for k in ("report_id", "number", "status", "category_code", "description"):
        if k in n:
            out[k] = n[k]
    return out


def joint_view(parts, now: datetime) -> dict | None:
    """吹哨报到: the lead and co-departments, who reported in when (late or not), who did not
    yet (overdue once past the deadline), and who fed back."""
    if not parts:
        return None
    out = []
    for p in parts:
        due, at = rules.instant(p["report_due_at"]), rules.instant(p["reported_in_at"])
        out.append({
            "department": p["department_code"], "name": p["name"], "name_en": p["name_en"],
            "role": p["role"], "summoned_at": rules.instant(p["summoned_at"]), "report_due_at": due,
            "reported_in_at": at, "reported_in_by": p["reported_in_by"],
            "late": (at > due) if at else None,
            "report_in_overdue": at is None and now > due,
            "feedback": p["feedback"], "fed_back_at": rules.instant(p["fed_back_at"]),
            "fed_back_by": p["fed_back_by"]})
    return {"lead": next(p["department"] for p in out if p["role"] == "lead"),
            "co": [p["department"] for p in out if p["role"] == "co"],
            "participants": out,
            "not_reported_in": [p["department"] for p in out if p["reported_in_at"] is None],
            "feedback_missing": [p["department"] for p in out
                                 if p["role"] == "co" and p["fed_back_at"] is None]}
def estimate_reason(guessed_years) -> str | None:
    """Why a deadline is an estimate (None: it is not): the years it was counted over without
    the State Council's holiday notice."""
    if not guessed_years:
        return None
    years = ", ".join(str(y) for y in guessed_years)
    return (f"Counted over {years} without the State Council's holiday notice (statutory "
            "holidays only, no 调休): an estimate until the notice is added and the deadline "
            "recomputed (gridsnap deadlines recompute).")


def _case_view(row, principal: Principal) -> dict:
    now = clock.now()
    view = report_view(row)
    facts = rules.facts_of(row, principal)
    pending = None
    if row["pending_extension_id"] is not None:
        pending = {"amount": row["pending_extension_amount"],
                   "unit": row["pending_extension_unit"],
                   "reason": row["pending_extension_reason"],
                   "requested_at": row["pending_extension_at"]}
    pending_return = suspension = None
    if row["request_kind"] == "return":
        pending_return = {"reason": row["request_reason_kind"], "note": row["request_reason"],
                          "department": row["request_department"],
                          "requested_at": row["request_at"]}
    elif row["request_kind"] == "suspension":
        suspension = {"status": row["request_status"], "reason_kind": row["request_reason_kind"],
                      "note": row["request_reason"], "review_on": row["request_review_on"],
                      "department": row["request_department"],
                      "requested_at": row["request_at"], "decided_at": row["request_decided_at"]}
    guessed = sorted(row["due_at_guessed_years"] or ())
    view.update(
        pending_return=pending_return, suspension=suspension,
        exclusion=(None if row["exclusion_json"] is None else {
            **row["exclusion_json"],
            "requested_at": rules.instant(row["exclusion_json"]["requested_at"])}),
        due_at_estimated=bool(guessed), due_at_guessed_years=guessed,
        due_at_estimated_reason=estimate_reason(guessed),
        stage=row["stage"], stage_started_at=row["stage_started_at"], overdue=row["overdue"],
        overdue_at=row["overdue_at"], escalation_level=row["escalation_level"],
        version=row["version"], suggested_department=row["suggested_department_code"],
        routing_source=row["routing_source"], routing_rule_id=row["routing_rule_id"],
        responsible_department=row["responsible_department_code"],
        accepted_at=row["accepted_at"], dispatched_at=row["dispatched_at"],
        signed_at=row["signed_at"], resolved_at=row["resolved_at"],
        closed_at=row["closed_at"], verifier_id=row["verifier_id"],
        rework_count=row["rework_count"], return_count=row["return_count"],
        # a merged case names its primary only to those who may see it (invariant 4)
        duplicate_of=row["duplicate_of"] if facts.sees_primary else None,
        pending_extension=pending, reporter_name=row["reporter_name"],
        callback_status=row["callback_status"], callback_attempts=row["callback_attempts"],
        request_class=row["request_class_json"],
        address_point=row["address_point_json"], repeat_request=row["repeat_request"],
        # a duplicate follows its primary case
        outcome=(row["primary_status"] if row["duplicate_of"] is not None and facts.sees_primary
                 else row["status"]),
        allowed_actions=rules.allowed_actions(principal, facts),
        joint=joint_view(row["joint_json"], now),
        notices=[notice_view(n, now) for n in row["notices_json"] or []],
        notice_due=rules.notice_due(row),
    )
    return view


def case_views(session: Session, principal: Principal, rows, *,
               with_links: bool = False) -> list[dict]:
    """Case rows (queries.VIEW_COLUMNS) as the API shows them to `principal`, with photos and,
    with_links, the nearest possible duplicates (at most queries.LINKS_SHOWN, with how many
    there are) and the merged duplicates the principal may see. Two statements at most (for
    the cases that have links), whatever the number of rows or of links."""
    views = [_case_view(r, principal) for r in rows]
    for v, r in zip(views, rows, strict=True):
        v["photos"] = [photo_view(p, principal, r["area_code"]) for p in r["photos_json"]]
    ids = [r["id"] for r in rows if r["has_links"]] if with_links else []
    if with_links:
        for v in views:
            v["possible_duplicates"], v["duplicates"] = [], []
            v["possible_duplicates_total"] = 0
    if ids:
        links: dict = {(k, i): [] for k in ("possible", "merged") for i in ids}
        for d in queries.links_of(session, ids, principal):
            if d["kind"] == "possible":
                links["possible", d["case_id"]].append({k: d[k] for k in _LINKED})
            else:
                links["merged", d["case_id"]].append(
                    {"id": d["id"], "number": d["number"], "reporter_id": d["reporter_id"]})
        counts = queries.possible_duplicate_counts(session, ids, principal)
        for v in views:
            if v["id"] in ids:
                v["possible_duplicates"] = links["possible", v["id"]]
                v["duplicates"] = links["merged", v["id"]]
                # the kept count, never fewer than those named
                v["possible_duplicates_total"] = max(counts.get(v["id"], 0),
                                                     len(v["possible_duplicates"]))
    return views


def possible_duplicates(session: Session, principal: Principal, report_id: uuid.UUID, *,
                        page: int, page_size: int) -> tuple[list[dict], int]:
    """A page of a case's possible duplicates (nearest first) and how many there are; 404
    outside scope."""
    get_case_row(session, principal, report_id)
    rows = queries.possible_duplicates_page(session, report_id, principal,
                                            offset=(page - 1) * page_size, limit=page_size)
    total = queries.possible_duplicate_counts(session, [report_id], principal).get(report_id, 0)
    return [{k: d[k] for k in _LINKED} for d in rows], max(total, (page - 1) * page_size + len(rows))


def find_visible_row(session: Session, principal: Principal, report_id: uuid.UUID):
    """The case row if it exists and the principal may see it (invariant 4), else None."""
    row = queries.find_case_row(session, report_id)
    return row if row is not None and rules.visible_to(principal, row) else None


def get_case_row(session: Session, principal: Principal, report_id: uuid.UUID):
    """The case row; raises AppError case.not_found if missing or out of scope."""
    row = find_visible_row(session, principal, report_id)
    if row is None:
        raise AppError("case.not_found", f"There is no case {report_id}.")
    return row


def get_case(session: Session, principal: Principal, report_id: uuid.UUID) -> dict:
    """The case with its photos, links and the actions the caller may take; 404 outside scope."""
    return case_views(session, principal, [get_case_row(session, principal, report_id)],
                      with_links=True)[0]


def list_cases(session: Session, principal: Principal, *, page: int, page_size: int,
               count: bool = True, **filters) -> tuple[list[dict], int | None]:
    """A page of the cases the caller may see, each with photos and the actions the caller may
    take, and the total (None without `count`)."""
    rows, total = queries.list_case_rows(session, principal, offset=(page - 1) * page_size,
                                         limit=page_size, count=count, **filters)
    return case_views(session, principal, rows), total


MY_TASKS_LIMIT = 500


def list_my_tasks(session: Session, principal: Principal, *, updated_since=None) -> list[dict]:
    """Cases waiting for the principal, by due time (at most MY_TASKS_LIMIT): verifications
    (核查) for a worker, dispatched work for a handler's department, cases to accept, dispatch,
    review (a return, 退单审核) or close for a supervisor. With updated_since, a delta: every
    case of the list's kind that changed since, including those that just left the list, so
    the phone drops them."""
    filters: dict = {"updated_since": updated_since, "order": "due"}
    if principal.role == "worker":
        filters.update(verifier_id=principal.id, statuses=["resolved"])
    elif principal.role == "handler":
        # dispatched to the department, or summoned to a joint case (吹哨报到)
        filters.update(department_or_joint=principal.department_code, statuses=["dispatched"])
    else:
        filters.update(statuses=["reported", "accepted", "returned", "resolved"])
    if updated_since is not None:
        filters.pop("statuses")
    views, _ = list_cases(session, principal, page=1, page_size=MY_TASKS_LIMIT, count=False,
                          **filters)
    return views
