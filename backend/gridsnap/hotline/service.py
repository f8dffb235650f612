"""Use cases of 接诉即办: take a call (话务受理), answer a consultation on the call (即时答复),
list and record callbacks (回访), and show a caller — masked, or unmasked on the audit trail."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.orm import Session

from .. import clock
from ..cases import service as case_service
from ..cases import views
from ..catalogue.service import class_for_call
from ..errors import AppError
from ..events import rules as ev
from ..events.queries import Event, insert_events
from ..grid.service import address_point, resolve_address, search_addresses
from ..reports.service import submit_report
from ..settings import Settings
from ..users import permissions
from ..users.rules import Principal
from . import queries, rules

CALLBACK_LIST_LIMIT = 500
# the latest cases of a repeat caller shown beside the count
REPEAT_CASES_SHOWN = 10


def record_caller(session: Session, case_id: uuid.UUID, caller: dict, *,
                  settings: Settings) -> None:
    """Store the caller of a case just taken (a 12345 call, an Open311 request): personal data,
    once, in the transaction that made the case, with the keyed hash of the number under the
    current key (repeat callers are found by it). Does not commit."""
    kid, key = settings.caller_hash_keys[0]
    digest = rules.phone_hash(key, caller.get("phone"))
    queries.insert_caller(session, case_id, caller, None if digest is None else (kid, digest))


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

    The request class (诉求分类) names the category the case is filed under (a category sent
    with it wins) and decides, with the case's area, the unit it is dispatched to (the
    dispatch catalogue). The place is a point picked, an address point (门牌) chosen, or the
    typed address resolved through the address points and then the grid's names.

    Raises AppError auth.forbidden (not a call-taker), request.invalid (an unknown class or
    address point, neither class nor category), hotline.location_required (no point and an
    address nothing places), report.unknown_category, report.id_conflict.
    """
    permissions.require(principal, permissions.TAKE_CALLS)
    request_class = category = None
    if body.get("request_class"):
        cls = class_for_call(session, body["request_class"])
        request_class, category = cls["code"], cls["category_code"]
    category = body.get("category") or category
    if category is None:
        raise AppError("request.invalid", "Choose the request's class (诉求分类) down to one "
                       "that names its category, or name the category.",
                       {"request_class" if body.get("request_class") else "category":
                        ["Required: a class with a category, or a category."]})
    location = body.get("location")
    address_point_id = None
    if location is None and body.get("address_id") is not None:
        point = address_point(session, body["address_id"])
        if point is None:
            raise AppError("request.invalid", "There is no such address point.",
                           {"address_id": ["Unknown address point."]})
        location = {"lon": point["lon"], "lat": point["lat"], "source": "manual"}
        body = {**body, "address": body.get("address") or point["address"]}
        address_point_id = body["address_id"]
    if location is None:
        found = resolve_address(session, body.get("address") or "")
        if found is None:
            raise AppError("hotline.location_required",
                           "Pick the place on the map, or type an address that names a "
                           "street, community or grid cell.",
                           {"address": ["Not found among the grid's names."]})
        location = {"lon": found["lon"], "lat": found["lat"], "source": "manual"}
    caller = body.get("caller") or {}
    report = {"category": category, "description": body.get("description") or "",
              "address": body.get("address"), "location": location,
              "captured_at": body["called_at"]}
    caller = {"name": caller.get("name") or None, "phone": caller.get("phone") or None,
              "email": None, "anonymous": bool(caller.get("anonymous"))}
    submitted = submit_report(
        session, principal, call_id, report, settings, source="hotline", nature=body["nature"],
        urgency=body["urgency"], caller=caller, request_class=request_class,
        address_point=address_point_id)
    if submitted.created:
        record_caller(session, call_id, caller, settings=settings)
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


def find_addresses(session: Session, principal: Principal, q: str) -> list[dict]:
    """The address points (门牌) matching what the call-taker typed, best first, each with its
    point and cell."""
    permissions.require(principal, permissions.PLACE_ADDRESSES)
    return search_addresses(session, q)


def _calls_view(session: Session, principal: Principal, hashes, *, settings: Settings,
                exclude: uuid.UUID | None) -> dict:
    since = clock.now() - timedelta(days=settings.repeat_caller_days)
    total, ids = queries.calls_by_hash(session, principal, hashes, since=since, exclude=exclude,
                                       limit=REPEAT_CASES_SHOWN)
    return {"calls": total, "window_days": settings.repeat_caller_days,
            "cases": _case_summaries(session, principal, ids)}


def _case_summaries(session: Session, principal: Principal, ids: list) -> list[dict]:
    """The cases of these ids in their order, as the call-taker's notices show them."""
    if not ids:
        return []
    found, _ = views.list_cases(session, principal, page=1, page_size=len(ids), count=False,
                                ids=ids)
    by_id = {c["id"]: c for c in found}
    return [{k: by_id[i].get(k) for k in ("id", "number", "status", "received_at",
                                          "description", "address", "request_class",
                                          "category")}
            for i in ids if i in by_id]


def caller_history(session: Session, principal: Principal, phone: str, *,
                   settings: Settings) -> dict:
    """重复来电: how often this number called in the window (GRIDSNAP_REPEAT_CALLER_DAYS) and
    the latest of those cases — of the cases the principal may see — compared by the keyed
    hash under every configured key, never by the number. Call-takers and admins."""
    permissions.require(principal, permissions.CALLER_HISTORY)
    return _calls_view(session, principal, rules.phone_hashes(settings.caller_hash_keys, phone),
                       settings=settings, exclude=None)


def place_history(session: Session, principal: Principal, body: dict, *,
                  settings: Settings) -> dict:
    """重复诉求 for the call-taker, before the call is taken: the open or recently closed
    requests of this class (or category) at this place — a point, or an address point —
    that the new request would be linked to as a repeat, of the cases the principal may see,
    nearest first. Raises AppError request.invalid (an unknown class or address point,
    neither class nor category, no place)."""
    permissions.require(principal, permissions.CALLER_HISTORY)
    request_class, category = None, body.get("category")
    if body.get("request_class"):
        cls = class_for_call(session, body["request_class"])
        request_class, category = cls["code"], category or cls["category_code"]
    if category is None:
        raise AppError("request.invalid", "Name the request's class or its category.",
                       {"request_class": ["Required: a class with a category, or a category."]})
    point = body.get("location")
    if point is None and body.get("address_id") is not None:
        point = address_point(session, body["address_id"])
        if point is None:
            raise AppError("request.invalid", "There is no such address point.",
                           {"address_id": ["Unknown address point."]})
    if point is None:
        raise AppError("request.invalid", "Give the place: a point or an address point.",
                       {"location": ["Required: a point, or address_id."]})
    total, ids = case_service.requests_at_place(
        session, principal, settings, request_class=request_class, category=category,
        lon=point["lon"], lat=point["lat"], limit=REPEAT_CASES_SHOWN)
    return {"requests": total, "window_days": settings.repeat_request_days,
            "radius_m": settings.repeat_request_radius_m,
            "cases": _case_summaries(session, principal, ids)}


def repeat_calls(session: Session, principal: Principal, case_id: uuid.UUID, *,
                 settings: Settings) -> dict:
    """The other calls in the window from the number of this case's caller, of the cases the
    principal may see (a handler sees those of their unit). Raises AppError case.not_found."""
    views.get_case_row(session, principal, case_id)
    found = queries.caller_hash_of(session, case_id)
    hashes = [] if found is None else [found]
    return _calls_view(session, principal, hashes, settings=settings, exclude=case_id)


def rehash_callers(session: Session, settings: Settings, *, batch: int = 1000) -> int:
    """After a new key comes first in GRIDSNAP_CALLER_HASH_KEYS (or for callers stored before
    the hash existed): hash again, under the current key, every number still kept in clear.
    Returns how many callers were hashed. Does not commit."""
    kid, key = settings.caller_hash_keys[0]
    done, after = 0, None
    while True:
        rows = queries.phones_to_rehash(session, kid, after=after, limit=batch)
        if not rows:
            return done
        updates = []
        for report_id, phone in rows:
            digest = rules.phone_hash(key, phone)
            updates.append({"report_id": report_id, "phone_key": kid if digest else None,
                            "phone_hash": digest})
        queries.set_phone_hashes(session, updates)
        done += sum(1 for u in updates if u["phone_hash"] is not None)
        after = rows[-1][0]
