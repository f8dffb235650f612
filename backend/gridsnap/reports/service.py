"""Use cases for reports: submit (信息采集), read one, list; each one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import psycopg
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import AppError
from ..users.rules import Principal
from . import queries
from .rules import fingerprint


@dataclass
class Submitted:
    report: dict
    created: bool


def _area(code, name, name_en):
    return None if code is None else {"code": code, "name": name, "name_en": name_en}


def report_view(row) -> dict:
    """A report row as the API shows it (the area chain nested, internals left out)."""
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
    }


def submit_report(session: Session, principal: Principal, report_id: uuid.UUID,
                  body: dict) -> Submitted:
    """信息采集: record a report from the field, idempotent by the client's id (invariant 2).

    Returns Submitted(created=True) for a new report; created=False for an identical replay.
    Raises AppError report.id_conflict (same id, other content) or report.unknown_category.
    """
    loc = body["location"]
    source = loc.get("source", "gps")
    description = body.get("description") or ""
    address = body.get("address") or None
    fp = fingerprint(reporter_id=principal.id, category=body["category"],
                     description=description, address=address, lon=loc["lon"], lat=loc["lat"],
                     accuracy_m=loc.get("accuracy_m"), source=source,
                     captured_at=body["captured_at"])
    params = {
        "id": report_id, "reporter_id": principal.id, "category": body["category"],
        "description": description, "address": address, "lon": loc["lon"], "lat": loc["lat"],
        "accuracy_m": loc.get("accuracy_m"), "source": source,
        "captured_at": body["captured_at"], "fingerprint": fp,
    }
    try:
        row = queries.insert_report(session, params)
        session.commit()
    except (IntegrityError, psycopg.IntegrityError) as exc:
        session.rollback()
        if "fk_reports_category_code_categories" in str(getattr(exc, "orig", exc)):
            raise AppError("report.unknown_category",
                           f"There is no category with code {body['category']!r}.",
                           {"category": ["Unknown category code."]}) from None
        raise
    if row is not None:
        return Submitted(report_view(row), created=True)
    existing = queries.find_report_row(session, report_id)
    if existing is None or bytes(existing["fingerprint"]) != fp:
        raise AppError("report.id_conflict",
                       f"Report {report_id} exists already with different content; "
                       "make a new id for a new report.")
    return Submitted(report_view(existing), created=False)


def get_visible_row(session: Session, principal: Principal, report_id: uuid.UUID):
    """The report row, or AppError report.not_found if missing or out of scope (invariant 4)."""
    row = queries.find_report_row(session, report_id)
    if row is None or not principal.may_see_report(
            reporter_id=row["reporter_id"], area_code=row["area_code"],
            department_code=row["department_code"],
            responsible_department_code=row["responsible_department_code"]):
        raise AppError("report.not_found", f"There is no report {report_id}.")
    return row


def _photos_by_report(session: Session, report_ids: list) -> dict:
    out: dict = {rid: [] for rid in report_ids}
    for p in queries.photo_rows_for(session, report_ids):
        out[p["report_id"]].append(photo_view(p))
    return out


def photo_view(p) -> dict:
    exif_location = None
    if p.get("exif_lon") is not None:
        exif_location = {"lon": p["exif_lon"], "lat": p["exif_lat"]}
    pid = p["id"]
    return {
        "id": pid, "sha256": p["sha256"], "content_type": p["content_type"],
        "size_bytes": p["size_bytes"], "width": p["width"], "height": p["height"],
        "uploaded_at": p["uploaded_at"], "processed": p.get("processed_at") is not None,
        "purpose": p.get("purpose", "report"),
        "exif_taken_at": p.get("exif_taken_at"), "exif_location": exif_location,
        "exif_distance_m": p.get("exif_distance_m"),
        "urls": {size: f"/api/v1/photos/{pid}?size={size}"
                 for size in ("thumb", "display", "original")},
    }


def get_report(session: Session, principal: Principal, report_id: uuid.UUID) -> dict:
    """One report with its photos; raises AppError report.not_found."""
    view = report_view(get_visible_row(session, principal, report_id))
    view["photos"] = _photos_by_report(session, [report_id])[report_id]
    return view


def list_reports(session: Session, principal: Principal, *, page: int, page_size: int,
                 **filters) -> tuple[list[dict], int]:
    """A page of the reports the principal may see, newest first (or by update for sync)."""
    rows, total = queries.list_report_rows(session, principal, offset=(page - 1) * page_size,
                                           limit=page_size, **filters)
    views = [report_view(r) for r in rows]
    photos = _photos_by_report(session, [v["id"] for v in views]) if views else {}
    for v in views:
        v["photos"] = photos.get(v["id"], [])
    return views, total


def locate_point(session: Session, lon: float, lat: float) -> dict:
    """Which cell (and area chain) a point falls in, by the same rule as intake."""
    hit = queries.locate(session, lon, lat)
    return {"area_code": hit.code if hit else None,
            "outside_grid": hit is None or hit.level != "cell"}
