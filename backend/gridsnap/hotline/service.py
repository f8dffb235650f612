"""Use cases of 接诉即办: take a call (话务受理), answer a consultation on the call (即时答复),
list and record callbacks (回访), and show a caller — masked, or unmasked on the audit trail."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from .. import clock
from ..cases import service as case_service
from ..cases import views
from ..errors import AppError
from ..events import rules as ev
from ..events.queries import Event, insert_events
from ..grid.service import resolve_address
from ..reports.service import submit_report
from ..settings import Settings
from ..users import permissions
from ..users.rules import Principal
from . import queries, rules

CALLBACK_LIST_LIMIT = 500


def record_caller(session: Session, case_id: uuid.UUID, caller: dict) -> None:
    """Store the caller of a case just taken (a 12345 call, an Open311 request): personal data,
    once, in the transaction that made the case. Does not commit."""
    queries.insert_caller(session, case_id, caller)


def _with_callers(session: Session, principal: Principal, cases: list[dict]) -> list[dict]:
    """The cases with their callers, masked (invariant 10: a list is never an unmasked view)."""
    found = queries.callers_of(session, [c["id"] for c in cases])
    for c in cases:
        c["caller"] = rules.caller_view(found.get(c["id"]), unmasked=False)
    return cases


def take_call(session: Session, principal: Principal, call_id: uuid.UUID, body: dict, *,
              settings: Settings) -> tuple[dict, bool]:
    """话务受理: record a call under the id the call-taker's screen made (a replay is harmless,
    invariant 2) as a case with source hotline, its caller stored once. A consultation sent
    with its answer is closed at once (即时答复, through the case table's `answer`); everything
    else enters the loop like a worker's report, and is handled within the hotline's limit for
    its urgency. Returns (the case with its caller masked, created).

    Raises AppError auth.forbidden (not a call-taker), hotline.location_required (no point
    and an address the grid's names do not place), report.unknown_category,
    report.id_conflict.
    """
    permissions.require(principal, permissions.TAKE_CALLS)
    location = body.get("location")
    if location is None:
        found = resolve_address(session, body.get("address") or "")
        if found is None:
            raise AppError("hotline.location_required",
                           "Pick the place on the map, or type an address that names a "
                           "street, community or grid cell.",
                           {"address": ["Not found among the grid's names."]})
        location = {"lon": found["lon"], "lat": found["lat"], "source": "manual"}
    caller = body.get("caller") or {}
    report = {"category": body["category"], "description": body.get("description") or "",
              "address": body.get("address"), "location": location,
              "captured_at": body["called_at"]}
    caller = {"name": caller.get("name") or None, "phone": caller.get("phone") or None,
              "email": None, "anonymous": bool(caller.get("anonymous"))}
    submitted = submit_report(
        session, principal, call_id, report, settings, source="hotline", nature=body["nature"],
        urgency=body["urgency"], caller=caller)
    if submitted.created:
        record_caller(session, call_id, caller)
    if submitted.created and body.get("answer"):
        case_service.change_case(session, principal, call_id, ["answer"],
                                 {"note": body["answer"]}, settings=settings)
    case = views.get_case(session, principal, call_id)
    return _with_callers(session, principal, [case])[0], submitted.created


def list_callbacks(session: Session, principal: Principal) -> list[dict]:
    """The closed hotline cases waiting for their callback (回访), the longest waiting first,
    with their callers masked; at most CALLBACK_LIST_LIMIT. Call-takers and admins."""
    permissions.require(principal, permissions.CALL_BACK)
    ids = queries.pending_callback_ids(session, principal, limit=CALLBACK_LIST_LIMIT)
    if not ids:
        return []
    cases, _ = views.list_cases(session, principal, page=1, page_size=len(ids), count=False,
                                ids=ids)
    by_id = {c["id"]: c for c in cases}
    return _with_callers(session, principal, [by_id[i] for i in ids if i in by_id])


def record_callback(session: Session, principal: Principal, case_id: uuid.UUID, body: dict, *,
                    settings: Settings) -> dict:
    """回访: record one try at calling the caller back — reached with 响应 / 解决 / 满意, or not
    (the third unanswered try makes them unreachable); with `reopen`, a 不满意 or 未解决 answer
    reopens the case (重新办理) as rework in the same change. Returns the case.

    Raises AppError case.not_found, case.invalid_transition, case.action_forbidden (no
    callback due, or reopening a satisfied caller's case), case.note_required,
    request.invalid.
    """
    steps = ["callback", "reopen"] if body.get("reopen") else ["callback"]
    case_service.change_case(session, principal, case_id, steps,
                             {"callback": body["callback"], "note": body.get("note")},
                             settings=settings)
    case = views.get_case(session, principal, case_id)
    return _with_callers(session, principal, [case])[0]


def show_caller(session: Session, principal: Principal, case_id: uuid.UUID, *,
                unmasked: bool, reason: str | None = None) -> dict:
    """The caller of a case the principal may see: masked; unmasked only for call-takers and
    admins — or, for 先行联系, the number alone for the handler of the unit the hotline case
    is dispatched to, with a stated reason — and then the view is written to the case's audit
    trail with who, what and why (invariant 10).

    Raises AppError case.not_found, caller.not_found, auth.forbidden, caller.reason_required.
    """
    case = views.get_case_row(session, principal, case_id)
    row = queries.find_caller(session, case_id)
    if row is None:
        raise AppError("caller.not_found", "This case has no caller on record.")
    if not unmasked:
        return rules.caller_view(row, unmasked=False)
    if permissions.may(principal, permissions.CONTACT_CALLERS):
        if not rules.may_reveal_number(principal, dict(case), row):
            raise AppError("auth.forbidden", "Only the unit a hotline case is dispatched to "
                           "sees its caller's number, and never an anonymous caller's.")
        reason = (reason or "").strip()
        if len(reason) < rules.REVEAL_REASON_MIN:
            raise AppError("caller.reason_required", "Say why you need the number (先行联系).",
                           {"reason": [f"At least {rules.REVEAL_REASON_MIN} characters."]})
        insert_events(session, [Event(report_id=case_id, action=ev.CALLER_VIEWED,
                                      at=clock.now(), actor_id=principal.id,
                                      data={"fields": ["phone"], "reason": reason})])
        return rules.number_view(row)
    permissions.require(principal, permissions.UNMASK_CALLERS)
    insert_events(session, [Event(report_id=case_id, action=ev.CALLER_VIEWED, at=clock.now(),
                                  actor_id=principal.id, data={"fields": ["name", "phone",
                                                                          "email"]})])
    return rules.caller_view(row, unmasked=True)


def place_address(session: Session, principal: Principal, address: str) -> dict | None:
    """Where a typed address lies by the grid's names (the call-taker's screen asks as the
    call-taker types); None when no name matches."""
    permissions.require(principal, permissions.PLACE_ADDRESSES)
    return resolve_address(session, address)
