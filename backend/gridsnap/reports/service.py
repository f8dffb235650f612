"""Use cases for reports: submit (信息采集), read one, list; in the caller's transaction (the
API's edge commits it before the 2xx leaves: invariant 1)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import psycopg
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import clock
from ..cases import rules as case_rules
from ..cases import views
from ..cases.queries import find_case_row
from ..errors import AppError
from ..settings import Settings
from ..users.rules import Principal
from . import queries
from .models import CATEGORY_FK
from .rules import capture_time_problem, fingerprint


@dataclass
class Submitted:
    report: dict
    created: bool


def _violates(exc: Exception, constraint: str) -> bool:
    """Whether the database refused a row for a foreign key, by its name (psycopg's
    diagnostics, not the message's text)."""
    orig = getattr(exc, "orig", exc)
    return (isinstance(orig, psycopg.errors.ForeignKeyViolation)
            and orig.diag.constraint_name == constraint)


def submit_report(session: Session, principal: Principal, report_id: uuid.UUID,
                  body: dict, settings: Settings, *, source: str = "worker",
                  nature: str | None = None, urgency: str | None = None,
                  caller: dict | None = None, request_class: str | None = None,
                  address_point: int | None = None) -> Submitted:
    """信息采集: record a report, idempotent by the client's id (invariant 2). From the field
    by default; a hotline call or an Open311 request names its source, nature, urgency and
    caller (personal data: part of what makes a replay identical; the feature that took it
    stores it, in the same transaction, with hotline.service.record_caller); a hotline call
    its request class (诉求分类), which the dispatch catalogue routes, and the address point
    (门牌) it was placed at, if one was chosen.

    Returns Submitted(created=True) for a new report; created=False for an identical replay.
    Raises AppError report.id_conflict (same id, other content), report.unknown_category or
    report.implausible_time (captured_at outside the plausible window; an identical replay of
    a report acknowledged earlier is still answered as a replay).
    Does not commit: a hotline call or an Open311 request stores its caller in the same
    transaction, and the owner of the transaction ends it (rolled back on an error).
    """
    loc = body["location"]
    origin = source
    source = loc.get("source", "gps")  # how the position was found
    description = body.get("description") or ""
    address = body.get("address") or None
    fp = fingerprint(reporter_id=principal.id, category=body["category"],
                     description=description, address=address, lon=loc["lon"], lat=loc["lat"],
                     accuracy_m=loc.get("accuracy_m"), source=source,
                     captured_at=body["captured_at"],
                     origin=_origin(origin, nature, urgency, caller, request_class,
                                    address_point))
    params = {
        "id": report_id, "reporter_id": principal.id, "category": body["category"],
        "description": description, "address": address, "lon": loc["lon"], "lat": loc["lat"],
        "accuracy_m": loc.get("accuracy_m"), "source": source,
        "captured_at": body["captured_at"], "fingerprint": fp,
        "origin": origin, "nature": nature, "urgency": urgency,
        "request_class": request_class, "address_point": address_point,
    }
    problem = capture_time_problem(
        body["captured_at"], clock.now(), max_age_days=settings.captured_max_age_days,
        max_ahead_seconds=settings.captured_max_ahead_seconds)
    if problem:
        existing = find_case_row(session, report_id)
        _require_visible(principal, existing, report_id)
        if existing is not None and bytes(existing["fingerprint"]) == fp:
            return Submitted(views.report_view(existing), created=False)
        raise AppError("report.implausible_time", f"captured_at: {problem}",
                       {"captured_at": [problem]})
    try:
        row = queries.insert_report(session, params)
    except (IntegrityError, psycopg.IntegrityError) as exc:
        if _violates(exc, CATEGORY_FK):
            raise AppError("report.unknown_category",
                           f"There is no category with code {body['category']!r}.",
                           {"category": ["Unknown category code."]}) from None
        raise
    if row is not None:
        return Submitted(views.report_view(row), created=True)
    existing = find_case_row(session, report_id)
    _require_visible(principal, existing, report_id)
    if existing is None or bytes(existing["fingerprint"]) != fp:
        raise AppError("report.id_conflict",
                       f"Report {report_id} exists already with different content; "
                       "make a new id for a new report.")
    return Submitted(views.report_view(existing), created=False)


def _origin(source: str, nature, urgency, caller, request_class,
            address_point=None) -> dict | None:
    """What of a report's origin makes a replay identical (a class only when there is one, so
    that replays of calls taken before classes existed keep their fingerprint)."""
    if source == "worker":
        return None
    out = {"source": source, "nature": nature, "urgency": urgency, "caller": caller}
    if request_class is not None:
        out["request_class"] = request_class
    if address_point is not None:
        out["address_point"] = address_point
    return out


def _require_visible(principal: Principal, existing, report_id: uuid.UUID) -> None:
    """An id taken by a report the caller may not see is answered as GET answers it (404),
    so a PUT tells nothing of other people's ids; the reporter always sees their own, so a
    replay and a conflict (invariant 2) are answered to them as before."""
    if existing is not None and not case_rules.visible_to(principal, existing):
        raise AppError("report.not_found", f"There is no report {report_id}.")


def get_report(session: Session, principal: Principal, report_id: uuid.UUID) -> dict:
    """One report with its photos; raises AppError report.not_found (missing or out of scope)."""
    row = views.find_visible_row(session, principal, report_id)
    if row is None:
        raise AppError("report.not_found", f"There is no report {report_id}.")
    # a case view: the report schema shows the report's fields of it
    return views.case_views(session, principal, [row])[0]


def list_reports(session: Session, principal: Principal, *, page: int, page_size: int,
                 **filters) -> tuple[list[dict], int]:
    """A page of the reports the principal may see, newest first (or by update for sync)."""
    return views.list_cases(session, principal, page=page, page_size=page_size, **filters)
