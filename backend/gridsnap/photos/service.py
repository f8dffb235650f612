"""Use cases for photos once they are here: read a size the caller may see, make one public,
hand Open311 its display size, forget expired uploads. How a photo arrives (the PUT, the
resumable upload) is uploads/: it stores the photo through this feature's queries and marks
its case changed through cases, which photos never write."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from ..errors import AppError
from ..storage import PartialUploads
from ..users.rules import Principal
from . import queries
from .rules import may_get_original, may_publish, photo_view


def visible_scope(session: Session, principal: Principal, report_id: uuid.UUID):
    """The report's scope (queries.report_scope) if the principal may see it, else None."""
    row = queries.report_scope(session, report_id)
    return row if row is not None and principal.may_see_report(**row) else None


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


def set_public(session: Session, principal: Principal, photo_id: uuid.UUID,
               public: bool) -> dict:
    """Mark a photo public (公开: Open311 may show it) or private again; returns the photo as
    the caller sees it. Raises AppError photo.not_found (missing or out of the caller's
    sight) or case.action_forbidden (only the case's supervisors and admins decide)."""
    row = queries.find_photo(session, photo_id)
    scope = row is not None and visible_scope(session, principal, row["report_id"])
    if not scope:
        raise AppError("photo.not_found", f"There is no photo {photo_id}.")
    if not may_publish(principal, area_code=scope["area_code"]):
        raise AppError("case.action_forbidden",
                       "Only the supervisors of the case's area (or an admin) make a photo "
                       "public.")
    queries.set_public(session, photo_id, public)
    return photo_view(queries.find_photo(session, photo_id), principal, scope["area_code"])


def display_file(session: Session, photo_id: uuid.UUID) -> tuple[uuid.UUID, str, str] | None:
    """(report id, storage key, etag) of a photo's display size — EXIF-free, the size fit to be
    public — or None if the photo is missing or the size not made yet. The caller decides
    who may see it (Open311's public cases)."""
    row = queries.find_photo(session, photo_id)
    if row is None or row["display_key"] is None:
        return None
    return row["report_id"], row["display_key"], f"{row['sha256']}-d"

def sweep_expired_uploads(session: Session, partials: PartialUploads, now,
                          limit: int = 1000) -> int:
    """Forget uploads past their expiry and delete their bytes; returns how many. Does not
    commit (a file deleted before a failed commit only makes its upload start again)."""
    ids = queries.delete_expired_uploads(session, now, limit)
    for upload_id in ids:
        partials.delete(upload_id)
    return len(ids)
