"""How a photo of a case arrives: the plain PUT of its bytes, or a resumable upload (tus 1.0.0)
whose last byte hands the whole photo over. Either way the photo is stored (bytes, then its
row with its audit event and outbox message: photos.queries) and its case is marked changed
(cases.service.photo_arrived), in the caller's transaction, so that the delta syncs of the
PWA and the command centre see the case. This sits above both features: photos never write a
case, and the case core never receives bytes.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy.orm import Session

from .. import clock, transaction
from ..cases import service as cases
from ..errors import AppError
from ..photos import queries
from ..photos.imaging import ALLOWED_TYPES, EXTENSIONS, PhotoError, inspect_image, sha256_hex
from ..photos.rules import photo_view, upload_expires_at, upload_offset_view
from ..photos.service import sweep_expired_uploads, visible_scope
from ..settings import Settings
from ..storage import PartialUploads, PhotoStorage, UploadLocked, original_key
from ..users.rules import Principal


def _may_see_report(session: Session, principal: Principal, report_id: uuid.UUID) -> bool:
    return visible_scope(session, principal, report_id) is not None


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
              device_exif: dict | None = None,
              from_upload: bool = False) -> tuple[dict, bool]:
    """Attach a photo to a report. Returns (photo, created); a replay returns created=False.

    Raises AppError: report.not_found (the client retries later), photo.unsupported_type,
    photo.too_large, photo.not_an_image, photo.too_many_pixels, photo.id_conflict,
    photo.too_many (the report has settings.photo_max_per_report).
    A new photo marks its case changed (cases.service.photo_arrived: delta syncs see it).
    The bytes are stored (by content hash) before the row is committed (by the caller's
    transaction's owner, the API's edge before its 2xx), so an acknowledged photo is never
    missing its file; a file whose row never committed is only an orphan.
    """
    scope = visible_scope(session, principal, report_id)
    if scope is None:
        raise AppError("report.not_found", f"There is no report {report_id}.")
    digest = sha256_hex(data)
    existing = queries.find_photo(session, photo_id)
    if existing is not None:
        if _same_photo(existing, report_id, digest, purpose):
            return photo_view(existing, principal, scope["area_code"]), False
        raise AppError("photo.id_conflict",
                       f"Photo {photo_id} exists already with other content or another report.")
    if content_type not in ALLOWED_TYPES:
        raise AppError("photo.unsupported_type",
                       "Send the photo as image/jpeg, image/png or image/webp.",
                       {"Content-Type": [f"{content_type or 'none'} is not accepted."]})
    if len(data) > settings.photo_max_bytes:
        raise AppError("photo.too_large",
                       f"The photo is larger than {settings.photo_max_bytes} bytes.")
    if not from_upload:  # a finished upload counted itself when it began
        _require_room_on_report(session, settings, report_id, clock.now())
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
    if row is not None:
        cases.photo_arrived(session, report_id)
        return photo_view(row, principal, scope["area_code"]), True
    # a concurrent upload of the same photo id won the race
    existing = queries.find_photo(session, photo_id)
    if existing is not None and _same_photo(existing, report_id, digest, purpose):
        return photo_view(existing, principal, scope["area_code"]), False
    raise AppError("photo.id_conflict",
                   f"Photo {photo_id} exists already with other content or another report.")



# Resumable uploads (tus 1.0.0; the protocol's headers are the api's business). An upload is
# bound at creation to a report the caller may see, a photo id and a purpose; only its uploader
# reaches it, and only while they may still see the report (else: as if it did not exist). The
# last byte hands the whole photo to add_photo, so a photo arrives exactly as by the plain PUT.

_SWEEP_ON_CREATE = 100


def create_upload(session: Session, partials: PartialUploads, settings: Settings,
                  principal: Principal, *, length: int, binding: dict) -> dict:
    """A new upload of `length` bytes for binding {report_id, photo_id, purpose, content_type,
    exif_*}; returns its row. Expired uploads are swept on the way.

    Raises AppError photo.too_large, photo.unsupported_type, report.not_found,
    upload.quota_exceeded (the user's open uploads or reserved bytes at their cap),
    photo.too_many (the report's photos and open uploads at their cap).
    """
    now = clock.now()
    sweep_expired_uploads(session, partials, now, limit=_SWEEP_ON_CREATE)
    if length > settings.photo_max_bytes:
        raise AppError("photo.too_large",
                       f"The photo is larger than {settings.photo_max_bytes} bytes.")
    if binding["content_type"] not in ALLOWED_TYPES:
        raise AppError("photo.unsupported_type",
                       "Send the photo as image/jpeg, image/png or image/webp.",
                       {"content_type": [f"{binding['content_type']} is not accepted."]})
    if not _may_see_report(session, principal, binding["report_id"]):
        raise AppError("report.not_found", f"There is no report {binding['report_id']}.")
    # an upload reserves its length on our disk: a user holds a few open at a time
    count, reserved = queries.open_uploads_of(session, principal.id, now)
    if count >= settings.upload_max_open or reserved + length > settings.upload_max_reserved_bytes:
        raise AppError("upload.quota_exceeded",
                       f"You have {count} uploads open ({reserved} bytes reserved; at most "
                       f"{settings.upload_max_open} and {settings.upload_max_reserved_bytes}): "
                       "finish or cancel (DELETE) one first.",
                       headers={"Retry-After": "60"})
    _require_room_on_report(session, settings, binding["report_id"], now)
    exif = exif_from_query(binding)
    row = queries.insert_upload(session, {
        "id": uuid.uuid4(), "report_id": binding["report_id"], "photo_id": binding["photo_id"],
        "uploader_id": principal.id, "purpose": binding["purpose"],
        "content_type": binding["content_type"], "length_bytes": length,
        "device_exif": json.dumps({k: (v.isoformat() if isinstance(v, datetime) else v)
                                   for k, v in exif.items() if v is not None}),
        "expires_at": upload_expires_at(now, settings.upload_expiry_hours)})
    return row


def _require_room_on_report(session: Session, settings: Settings, report_id: uuid.UUID,
                            now) -> None:
    if queries.photos_of_report(session, report_id, now) >= settings.photo_max_per_report:
        raise AppError("photo.too_many",
                       f"This report has {settings.photo_max_per_report} photos already.",
                       {"photo_id": ["No more photos on this report."]})


def _own_upload(session: Session, principal: Principal, upload_id: uuid.UUID, now):
    row = queries.find_upload(session, upload_id)
    if (row is None or row["uploader_id"] != principal.id
            or not _may_see_report(session, principal, row["report_id"])):
        raise AppError("upload.not_found", f"There is no upload {upload_id}.")
    if row["completed_at"] is None and row["expires_at"] <= now:
        raise AppError("upload.gone", "This upload expired; start it again.")
    return row


def upload_state(session: Session, storage: PhotoStorage, partials: PartialUploads,
                 settings: Settings, principal: Principal, upload_id: uuid.UUID) -> dict:
    """{offset, length, expires_at, completed} of the caller's upload. All bytes there but the
    photo not yet added (the server failed between the two): it is added now.

    Raises AppError upload.not_found, upload.gone, upload.locked, and add_photo's errors.
    """
    now = clock.now()
    row = _own_upload(session, principal, upload_id, now)
    if row["offset_bytes"] == row["length_bytes"] and row["completed_at"] is None:
        with _enter(partials, upload_id) as partial:
            row = _hand_over(session, storage, partials, settings, principal, row, partial, now)
    return upload_offset_view(row)


def append_upload(session: Session, storage: PhotoStorage, partials: PartialUploads,
                  settings: Settings, principal: Principal, upload_id: uuid.UUID, offset: int,
                  chunks: Iterable[bytes], content_length: int | None) -> dict:
    """Append the chunks at `offset` (the tus PATCH): what arrives is kept, also when the
    chunks stop early. Returns the upload's state; its last byte adds the photo.

    Raises AppError upload.not_found, upload.gone, upload.offset_mismatch, upload.too_long,
    upload.locked, photo.storage_failed (503: the bytes could not be written), and add_photo's
    errors (the upload is dropped unless it may be retried).
    """
    now = clock.now()
    row = _own_upload(session, principal, upload_id, now)
    _check_offset(row, offset, content_length)
    transaction.step(session)  # no transaction stays open while the body arrives
    with _enter(partials, upload_id) as partial:
        row = queries.find_upload(session, upload_id)
        if row is None:  # terminated meanwhile
            raise AppError("upload.not_found", f"There is no upload {upload_id}.")
        _check_offset(row, offset, content_length)
        if row["completed_at"] is None:
            if partial.size() < row["offset_bytes"]:
                # the file lost bytes the database counted (a crash before the directory
                # reached the disk): start again from 0
                queries.advance_upload(session, upload_id, row["offset_bytes"], 0, row["expires_at"])
                transaction.step(session)  # kept, though the request is refused
                raise AppError("upload.offset_mismatch", "The server lost this upload's bytes; "
                               "ask for the offset (HEAD) and send from there.")
            transaction.step(session)
            try:
                written = partial.write_at(offset, chunks, row["length_bytes"] - offset)
            except OSError as exc:  # a full disk, say: nothing counted, the client comes again
                raise AppError("photo.storage_failed",
                               "The photo could not be stored; try again later.",
                               headers={"Retry-After": "30"}) from exc
            if written:
                row = queries.advance_upload(
                    session, upload_id, offset, offset + written,
                    upload_expires_at(now, settings.upload_expiry_hours,
                                      created_at=row["created_at"],
                                      max_age_hours=settings.upload_max_age_hours)) or row
                transaction.step(session)
            if row["offset_bytes"] == row["length_bytes"]:
                row = _hand_over(session, storage, partials, settings, principal, row, partial,
                                 now)
    return upload_offset_view(row)


@contextmanager
def _enter(partials: PartialUploads, upload_id: uuid.UUID):
    try:
        with partials.locked(upload_id) as partial:
            yield partial
    except UploadLocked:
        raise AppError("upload.locked", "This upload is being written by another request; "
                       "try again shortly.", headers={"Retry-After": "1"}) from None


def _check_offset(row, offset: int, content_length: int | None) -> None:
    if offset != row["offset_bytes"]:
        raise AppError("upload.offset_mismatch",
                       f"The upload is at byte {row['offset_bytes']}, not {offset}.",
                       {"Upload-Offset": [f"Expected {row['offset_bytes']}."]})
    if content_length is not None and offset + content_length > row["length_bytes"]:
        raise AppError("upload.too_long",
                       f"The upload is {row['length_bytes']} bytes long; this body goes past it.",
                       {"Content-Length": [f"At most {row['length_bytes'] - offset}."]})


def _hand_over(session: Session, storage: PhotoStorage, partials: PartialUploads,
               settings: Settings, principal: Principal, row, partial, now):
    """The whole photo to add_photo (idempotent by photo id, so a second hand-over after a
    crash is a replay). A refusal (not an image, a conflict…) drops the upload; a failure
    worth retrying (5xx) keeps it, and the next HEAD tries again."""
    data = partial.read(row["length_bytes"])
    exif = row["device_exif"] or {}
    taken_at = exif.get("exif_taken_at")
    try:
        add_photo(session, storage, settings, principal, row["report_id"], row["photo_id"],
                  data, row["content_type"], purpose=row["purpose"],
                  device_exif={"exif_taken_at": taken_at and datetime.fromisoformat(taken_at),
                               "exif_lon": exif.get("exif_lon"), "exif_lat": exif.get("exif_lat")},
                  from_upload=True)
    except AppError as exc:
        session.rollback()
        if exc.status < 500:
            queries.delete_upload(session, row["id"])
            transaction.step(session)  # dropped, though the request is refused
            partials.delete(row["id"])
        raise
    queries.complete_upload(session, row["id"], now,
                            upload_expires_at(now, settings.upload_expiry_hours))
    transaction.step(session)  # the photo and its upload's end, before the bytes go
    partials.delete(row["id"])
    return queries.find_upload(session, row["id"])


def terminate_upload(session: Session, partials: PartialUploads, principal: Principal,
                     upload_id: uuid.UUID) -> None:
    """Forget the caller's upload and its bytes (tus termination); a photo it already added
    stays. Raises AppError upload.not_found, upload.locked."""
    row = queries.find_upload(session, upload_id)
    if (row is None or row["uploader_id"] != principal.id
            or not _may_see_report(session, principal, row["report_id"])):
        raise AppError("upload.not_found", f"There is no upload {upload_id}.")
    with _enter(partials, upload_id):
        queries.delete_upload(session, upload_id)
        transaction.step(session)  # the row before its bytes
        partials.delete(upload_id)

