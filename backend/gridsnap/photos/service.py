"""Use cases for photos: add one to a report (idempotent by the client's photo id), read one."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from ..errors import AppError
from ..settings import Settings
from ..users.rules import Principal
from . import queries
from .imaging import ALLOWED_TYPES, EXTENSIONS, PhotoError, inspect_image, sha256_hex
from .rules import may_get_original, photo_view
from .storage import PhotoStorage, original_key


def _may_see_report(session: Session, principal: Principal, report_id: uuid.UUID) -> bool:
    row = queries.report_scope(session, report_id)
    return row is not None and principal.may_see_report(**row)


def _same_photo(existing, report_id: uuid.UUID, digest: str, purpose: str) -> bool:
    return (existing["report_id"] == report_id and existing["sha256"] == digest
            and existing["purpose"] == purpose)


def exif_from_query(query: dict) -> dict:
    """The EXIF the phone read (query exif_taken_at, exif_lon, exif_lat) as insert parameters;
    a position needs both coordinates. Raises AppError request.invalid for half a position."""
    lon, lat = query.get("exif_lon"), query.get("exif_lat")
    if (lon is None) != (lat is None):
        raise AppError("request.invalid", "Send exif_lon and exif_lat together.",
                       {"exif_lat" if lat is None else "exif_lon": ["Missing."]})
    return {"exif_taken_at": query.get("exif_taken_at"), "exif_lon": lon, "exif_lat": lat}


_NO_EXIF = {"exif_taken_at": None, "exif_lon": None, "exif_lat": None}


def add_photo(session: Session, storage: PhotoStorage, settings: Settings, principal: Principal,
              report_id: uuid.UUID, photo_id: uuid.UUID, data: bytes,
              content_type: str, purpose: str = "report",
              device_exif: dict | None = None) -> tuple[dict, bool]:
    """Attach a photo to a report. Returns (photo, created); a replay returns created=False.

    Raises AppError: report.not_found (the client retries later), photo.unsupported_type,
    photo.too_large, photo.not_an_image, photo.too_many_pixels, photo.id_conflict.
    The bytes are stored (by content hash) before the row is committed, so an acknowledged
    photo is never missing its file; a file whose row never committed is only an orphan.
    """
    if not _may_see_report(session, principal, report_id):
        raise AppError("report.not_found", f"There is no report {report_id}.")
    digest = sha256_hex(data)
    existing = queries.find_photo(session, photo_id)
    if existing is not None:
        if _same_photo(existing, report_id, digest, purpose):
            return photo_view(existing), False
        raise AppError("photo.id_conflict",
                       f"Photo {photo_id} exists already with other content or another report.")
    if content_type not in ALLOWED_TYPES:
        raise AppError("photo.unsupported_type",
                       "Send the photo as image/jpeg, image/png or image/webp.",
                       {"Content-Type": [f"{content_type or 'none'} is not accepted."]})
    if len(data) > settings.photo_max_bytes:
        raise AppError("photo.too_large",
                       f"The photo is larger than {settings.photo_max_bytes} bytes.")
    try:
        info = inspect_image(data, content_type, max_pixels=settings.photo_max_pixels)
    except PhotoError as exc:
        raise AppError(exc.code, exc.message) from None
    key = original_key(digest, EXTENSIONS[content_type])
    try:
        storage.put(key, data, content_type)
    except OSError as exc:
        raise AppError("photo.storage_failed",
                       "The photo could not be stored; try again later.",
                       headers={"Retry-After": "30"}) from exc
    row = queries.insert_photo(session, {
        "id": photo_id, "report_id": report_id, "uploader_id": principal.id, "sha256": digest,
        "content_type": content_type, "size_bytes": len(data), "width": info.width,
        "height": info.height, "original_key": key, "purpose": purpose,
        **(device_exif or _NO_EXIF),
    })
    session.commit()
    if row is not None:
        return photo_view(row), True
    # a concurrent upload of the same photo id won the race
    existing = queries.find_photo(session, photo_id)
    if existing is not None and _same_photo(existing, report_id, digest, purpose):
        return photo_view(existing), False
    raise AppError("photo.id_conflict",
                   f"Photo {photo_id} exists already with other content or another report.")


def photo_file(session: Session, principal: Principal, photo_id: uuid.UUID,
               size: str) -> tuple[str, str, str]:
    """(storage key, content type, etag) of a photo the principal may see.

    Raises AppError photo.not_found (missing or out of scope, or the original asked for by
    someone rules.may_get_original refuses: they are not told it exists) or photo.not_ready
    (the derivative is still being made; the client retries).
    """
    row = queries.find_photo(session, photo_id)
    scope = row is not None and queries.report_scope(session, row["report_id"])
    if not scope or not principal.may_see_report(**scope):
        raise AppError("photo.not_found", f"There is no photo {photo_id}.")
    if size == "original":
        if not may_get_original(principal, uploader_id=row["uploader_id"],
                                area_code=scope["area_code"]):
            raise AppError("photo.not_found",
                           f"There is no original of photo {photo_id} for you; ask for the "
                           "display size.")
        return row["original_key"], row["content_type"], f"{row['sha256']}-o"
    key = row["thumb_key"] if size == "thumb" else row["display_key"]
    if key is None:
        raise AppError("photo.not_ready", "This size is still being made; try again shortly.",
                       headers={"Retry-After": "5"})
    return key, "image/jpeg", f"{row['sha256']}-{size[0]}"


def photos_by_report(session: Session, report_ids: list) -> dict:
    """The photos of many reports, as the API shows them: {report id: [photo, ...]}."""
    out: dict = {rid: [] for rid in report_ids}
    if report_ids:
        for p in queries.rows_for_reports(session, report_ids):
            out[p["report_id"]].append(photo_view(p))
    return out


def display_file(session: Session, photo_id: uuid.UUID) -> tuple[uuid.UUID, str, str] | None:
    """(report id, storage key, etag) of a photo's display size — EXIF-free, the size fit to be
    public — or None if the photo is missing or the size not made yet. The caller decides
    who may see it (Open311's public cases)."""
    row = queries.find_photo(session, photo_id)
    if row is None or row["display_key"] is None:
        return None
    return row["report_id"], row["display_key"], f"{row['sha256']}-d"
