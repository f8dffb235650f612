"""Use cases of Open311 GeoReport v2: discovery, services, POST a request (a case with source
open311, the client system its reporter, the citizen's contact stored as a caller), GET
requests, a request, a token; and the clients' API keys (issued and revoked by an admin)."""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from redis import Redis
from sqlalchemy.orm import Session

from .. import clock
from ..errors import AppError
from ..grid.service import locate_point, resolve_address
from ..hotline import service as hotline_service
from ..photos import service as photo_service
from ..reports.service import submit_report
from ..settings import Settings
from ..users import permissions
from ..users import queries as user_queries
from ..users import service as user_service
from ..users.rules import Principal, valid_scope
from . import queries, rules


def _bad(message: str) -> AppError:
    return AppError("open311.bad_request", message)


def check_jurisdiction(settings: Settings, jurisdiction_id: str | None) -> None:
    """One jurisdiction per deployment: the argument is optional, but a wrong one is 404."""
    if jurisdiction_id and jurisdiction_id != settings.open311_jurisdiction_id:
        raise AppError("open311.not_found",
                       f"jurisdiction_id {jurisdiction_id!r} was not found; this endpoint "
                       f"serves {settings.open311_jurisdiction_id!r}.")


def client_for_key(session: Session, api_key: str | None, *, required: bool) -> Principal | None:
    """The client system behind an API key; 403 when it is missing (and required) or invalid."""
    if not api_key:
        if required:
            raise AppError("open311.forbidden", "Missing api_key -- can't proceed.")
        return None
    try:
        principal = user_service.authenticate(session, api_key)
    except AppError:
        principal = None
    verb = permissions.FILE_OPEN311_REQUESTS
    if principal is None or not permissions.may(principal, verb):
        raise AppError(verb.code, verb.refusal)
    return principal


def discovery(settings: Settings, endpoint_url: str) -> dict:
    """The discovery document: the production endpoint and its test endpoint (whose POST
    files nothing), each with both formats. Two entries, as the spec's example and real
    deployments publish them: a client written against them (the SeeClickFix validator reads
    `endpoints/endpoint` as a list, and tries only the non-production ones unless told) reads
    a single entry wrongly."""
    def entry(url: str, kind: str) -> dict:
        return {"specification": rules.SPECIFICATION, "url": url,
                "changeset": rules.CHANGESET, "type": kind,
                "formats": ["text/xml", "application/json"]}
    return {"changeset": rules.CHANGESET,
            "contact": settings.open311_contact or "The city's 12345 / grid management centre.",
            "key_service": "API keys are issued by the deployment's administrator "
                           "(gridsnap open311 add).",
            "endpoints": [entry(endpoint_url, "production"),
                          entry(endpoint_url + rules.TEST_PATH, "test")]}


def _service(row) -> dict:
    return {"service_code": row["code"], "service_name": row["name"],
            "description": f"{row['major_name']} · {row['name']}",
            "metadata": False, "type": "realtime",
            "keywords": ", ".join(x for x in (row["name_en"], row["major_name_en"]) if x),
            "group": row["major_name"]}


def list_services(session: Session) -> list[dict]:
    """The service list: one service per active category (部件/事件 minor class)."""
    return [_service(r) for r in queries.list_services(session)]


def service_definition(session: Session, code: str) -> dict:
    """A service's definition: our services need no attributes (metadata false)."""
    if not queries.list_services(session, code):
        raise AppError("open311.not_found", f"service_code {code!r} was not found.")
    return {"service_code": code, "attributes": []}


def _float(form: dict, name: str) -> float | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise _bad(f"{name} must be a number (WGS84 degrees).") from None
    limit = 90 if name == "lat" else 180
    if not -limit <= value <= limit:
        raise _bad(f"{name} is out of range.")
    return value


def _require_client_area(session: Session, client: Principal, lon: float, lat: float) -> None:
    """A client files requests only where it is responsible: a point in no area of this city's
    grid is 400 (no grid there), one outside the client's scopes the spec's 403."""
    area_code = locate_point(session, lon, lat)["area_code"]
    if area_code is None:
        raise AppError("open311.no_grid", "There is no grid of this city at that location.")
    if not client.covers_area(area_code):
        raise AppError("open311.outside_area",
                       "This api_key may not file requests at that location (outside the "
                       "client's area).")


def post_request(session: Session, client: Principal, form: dict,
                 settings: Settings, *, test: bool = False) -> list[dict]:
    """POST Service Request: a case with source open311 (realtime: the service_request_id —
    the case number, a string as the spec's schemas say — at once). The citizen's name,
    email and phone are personal data, stored once like a 12345 caller's; a media_url (a
    public URL the client keeps) is stored and returned with the request. On the test
    endpoint (`test`) every check is made and nothing is filed: the answer is a token that
    leads nowhere. Raises AppError open311.bad_request / open311.not_found."""
    code = (form.get("service_code") or "").strip()
    if not code:
        raise _bad("service_code was not provided.")
    if not queries.list_services(session, code):
        raise AppError("open311.not_found", f"service_code {code!r} was not found.")
    lat, lon = _float(form, "lat"), _float(form, "long")
    address = (form.get("address_string") or "").strip() or None
    if (lat is None) != (lon is None):
        raise _bad("lat and long must both be sent.")
    if lat is None:
        if form.get("address_id"):
            raise _bad("address_id is not supported here: send lat & long or address_string.")
        if address is None:
            raise _bad("A location is required: lat & long, or address_string.")
        found = resolve_address(session, address)
        if found is None:
            raise _bad("address_string names no street, community or grid cell of this city; "
                       "send lat & long.")
        lat, lon = found["lat"], found["lon"]
    _require_client_area(session, client, lon, lat)
    description = form.get("description") or ""
    if len(description) > rules.MAX_DESCRIPTION:
        raise _bad(f"description is limited to {rules.MAX_DESCRIPTION} characters here.")
    first, last = (form.get("first_name") or "").strip(), (form.get("last_name") or "").strip()
    # a Chinese name is family name first, without a space: 王小明; else "John Smith"
    chinese = any(ord(ch) >= 0x2E80 for ch in last + first)
    name = (last + first if chinese else " ".join(x for x in (first, last) if x)) or None
    if name and len(name) > rules.MAX_NAME:
        raise _bad(f"first_name and last_name are limited to {rules.MAX_NAME} characters "
                   "together here.")
    phone = (form.get("phone") or "").strip() or None
    if phone and not re.fullmatch(r"[0-9+() -]{3,32}", phone):
        raise _bad("phone must be a phone number.")
    email = (form.get("email") or "").strip()[:254] or None
    media_url = (form.get("media_url") or "").strip() or None
    if media_url and (problem := rules.media_url_problem(media_url)):
        raise _bad(problem)
    if test:
        return [{"token": f"test-{uuid.uuid4()}",
                 "service_notice": "测试端点：请求已通过校验，未建案。 Test endpoint: the request "
                                   "passed every check and was not filed.",
                 "account_id": None}]
    caller = {"name": name, "phone": phone, "email": email, "anonymous": False}
    report_id = uuid.uuid4()
    submitted = submit_report(
        session, client, report_id,
        {"category": code, "description": description, "address": address,
         "location": {"lon": lon, "lat": lat, "source": "manual"},
         "captured_at": clock.now()}, settings,
        source="open311", caller=caller if any((name, phone, email)) else None)
    if submitted.created and any((name, phone, email)):
        hotline_service.record_caller(session, report_id, caller, settings=settings)
    if submitted.created and media_url:
        queries.insert_media(session, report_id, media_url)
    return [{"service_request_id": str(submitted.report["number"]),
             "service_notice": "已受理，将按期办理。", "account_id": None}]


def _request_view(row, settings: Settings, base_url: str) -> dict:
    status = rules.open_or_closed(row["status"])
    return {
        "service_request_id": str(row["number"]), "status": status,
        "status_notes": rules.status_notes(row["status"], row["public_note"]),
        "service_name": row["service_name"], "service_code": row["category_code"],
        "description": row["description"], "agency_responsible": row["agency"],
        "service_notice": None,
        "requested_datetime": rules.w3c(row["received_at"], settings.timezone),
        "updated_datetime": rules.w3c(
            row["closed_at"] if status == "closed" and row["closed_at"] else row["updated_at"],
            settings.timezone),
        "expected_datetime": rules.w3c(row["due_at"], settings.timezone),
        "address": row["address"], "address_id": None, "zipcode": None,
        "lat": row["lat"], "long": row["lon"],
        # the photo staff marked public, else what the client posted
        "media_url": (f"{base_url}/media/{row['photo_id']}.jpg" if row["photo_id"]
                      else row["posted_media_url"]),
    }


def _parse_date(args: dict, name: str) -> datetime | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(f"{name} must be a W3C date-time, e.g. 2026-11-01T00:00:00Z.") from None
    if value.tzinfo is None:
        raise _bad(f"{name} must carry its time zone (Z or an offset).")
    try:
        # a range of 90 days around it must be expressible: 0001-01-01 and 9999-12-31 are not
        value.astimezone(UTC) - timedelta(days=rules.DEFAULT_DAYS + 1)
        value.astimezone(UTC) + timedelta(days=rules.DEFAULT_DAYS + 1)
    except (OverflowError, ValueError):
        raise _bad(f"{name} is out of range.") from None
    return value


def _list_arg(args: dict, name: str) -> list[str]:
    return [x.strip() for x in (args.get(name) or "").split(",") if x.strip()]


def list_requests(session: Session, client: Principal | None, args: dict, settings: Settings,
                  base_url: str) -> list[dict]:
    """GET Service Requests with the spec's filters (service_request_id overrides the others;
    the range defaults to the most recent 90 days and spans at most 90; at most 1000)."""
    ids = _list_arg(args, "service_request_id")
    if ids:
        if not all(i.isascii() and i.isdigit() and len(i) <= 18 for i in ids):
            raise _bad("service_request_id is a comma-separated list of request ids.")
        rows = queries.list_requests(session, client, numbers=[int(i) for i in ids],
                                     limit=rules.MAX_REQUESTS)
        return [_request_view(r, settings, base_url) for r in rows]
    start, end = _parse_date(args, "start_date"), _parse_date(args, "end_date")
    span = timedelta(days=rules.DEFAULT_DAYS)
    if start and end and end - start > span:
        raise _bad("start_date and end_date may not span more than 90 days.")
    if start and end and end < start:
        raise _bad("end_date is before start_date.")
    if start is None and end is None:
        end = clock.now()
        start = end - span
    elif start is None:
        start = end - span
    elif end is None:
        end = start + span
    statuses = _list_arg(args, "status")
    if any(s not in ("open", "closed") for s in statuses):
        raise _bad("status is open or closed (comma-separated).")
    ours = None
    if statuses and set(statuses) != {"open", "closed"}:
        ours = (sorted(rules.CLOSED_STATUSES) if statuses == ["closed"] else
                [s for s in ("reported", "accepted", "dispatched", "returned", "resolved",
                             "suspended")])
    rows = queries.list_requests(session, client, service_codes=_list_arg(args, "service_code"),
                                 start=start, end=end, statuses=ours, limit=rules.MAX_REQUESTS)
    return [_request_view(r, settings, base_url) for r in rows]


def get_request(session: Session, client: Principal | None, request_id: str,
                settings: Settings, base_url: str) -> list[dict]:
    if not (request_id.isascii() and request_id.isdigit()) or len(request_id) > 18:
        raise AppError("open311.not_found", f"service_request_id {request_id!r} was not found.")
    rows = queries.list_requests(session, client, numbers=[int(request_id)], limit=1)
    if not rows:
        raise AppError("open311.not_found", f"service_request_id {request_id!r} was not found.")
    return [_request_view(rows[0], settings, base_url)]


def get_token(session: Session, client: Principal | None, token: str) -> list[dict]:
    """GET service_request_id from a token: our tokens are the cases' ids (UUIDs)."""
    try:
        report_id = uuid.UUID(token)
    except ValueError:
        raise AppError("open311.not_found", f"token {token!r} was not found.") from None
    number = queries.number_of(session, client, report_id)
    if number is None:
        raise AppError("open311.not_found", f"token {token!r} was not found.")
    return [{"service_request_id": str(number), "token": token}]


def public_media(session: Session, photo_id: uuid.UUID) -> tuple[str, str]:
    """(storage key, etag) of the display size (EXIF-free) of a public case's photo."""
    found = photo_service.display_file(session, photo_id)
    if found is None or not queries.is_public(session, found[0], photo_id):
        raise AppError("open311.not_found", "There is no such media.")
    return found[1], found[2]


# --- clients and their API keys (admins) -------------------------------------------------------

def issue_client(session: Session, name: str, scopes: list[str], *, display_name: str = "",
                 years: int = 5, actor: Principal | None = None) -> str:
    """A client system (an account of role client, `open311-<name>`) and its API key, shown
    once (only its hash is stored). Its scope (area code prefixes) bounds what its key reads.
    Raises AppError user.invalid, open311.client_exists."""
    if not re.fullmatch(rules.CLIENT_NAME, name):
        raise AppError("user.invalid", "A client's name is 2-41 lower-case letters, digits, -.")
    bad = [s for s in scopes if not valid_scope(s)]
    if bad or not scopes:
        raise AppError("user.invalid", "Give the client one or more scopes (area code "
                       "prefixes, or '' for the city).")
    if actor is not None and not _manages(actor, scopes):
        # an admin issues keys within its own scope only
        raise AppError("auth.forbidden", "You may give a client only scopes within your own.",
                       {"scopes": ["Wider than yours."]})
    username = rules.USERNAME_PREFIX + name
    if user_queries.find_user_by_username(session, username) is not None:
        raise AppError("open311.client_exists", f"There is a client named {name!r} already.")
    user = user_service.add_user(session, username=username, display_name=display_name or name,
                                 role="client", password=secrets.token_urlsafe(24),
                                 scopes=scopes)
    key = user_service.issue_api_key(session, user.id, years=years, label="open311 api key")
    return key


def revoke_client(session: Session, name: str, redis: Redis | None,
                  actor: Principal | None = None) -> None:
    """Disable the client and revoke its keys on every API process at once (a new revocation
    epoch in `redis`); raises open311.client_not_found (also for a client outside the scope
    of `actor`, an admin)."""
    username = rules.USERNAME_PREFIX + name
    client = user_queries.find_user_by_username(session, username)
    if client is None or (actor is not None and not _manages(actor, client.scopes)):
        raise AppError("open311.client_not_found", f"There is no client {name!r}.")
    user_service.disable_user(session, username, redis)


def list_clients(session: Session, actor: Principal | None = None) -> list[dict]:
    """The client systems (those `actor`, an admin, manages)."""
    return [{**dict(r), "name": r["username"].removeprefix(rules.USERNAME_PREFIX),
             "revoked": r["disabled_at"] is not None} for r in queries.client_users(session)
            if actor is None or _manages(actor, r["scopes"])]


def _manages(actor: Principal, scopes) -> bool:
    """An admin manages the clients whose scopes lie within its own (users.permissions)."""
    return permissions.may(actor, permissions.MANAGE_OPEN311_CLIENTS,
                           permissions.Scoped(tuple(scopes or ())))
