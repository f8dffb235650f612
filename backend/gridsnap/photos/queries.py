"""Every SQL statement about photos: the upload (with its audit event and outbox message in
the same statement), the processing marks, and the reads."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

from .. import clock
from ..events import rules as ev
from ..events.queries import insert_cte as event_cte
from ..outbox import rules as topics
from ..outbox.queries import insert_cte as outbox_cte

_OUT_COLUMNS = """
    id, report_id, uploader_id, sha256, content_type, size_bytes, width, height, uploaded_at,
    purpose, processed_at, public_at, exif_taken_at, ST_X(exif_location) AS exif_lon,
    ST_Y(exif_location) AS exif_lat, exif_distance_m, exif_source
"""

_FIND = text(f"SELECT {_OUT_COLUMNS}, original_key, thumb_key, display_key "
             "FROM photos WHERE id = :id")

_INSERT = text(f"""
WITH ins AS (
    INSERT INTO photos (id, report_id, uploader_id, sha256, content_type, size_bytes, width,
                        height, original_key, purpose, exif_taken_at, uploaded_at, exif_location)
    VALUES (:id, :report_id, :uploader_id, :sha256, :content_type, :size_bytes, :width,
            :height, :original_key, :purpose, :exif_taken_at, :now,
            CASE WHEN CAST(:exif_lon AS float8) IS NULL THEN NULL
                 ELSE ST_SetSRID(ST_MakePoint(:exif_lon, :exif_lat), 4326) END)
    ON CONFLICT (id) DO NOTHING
    RETURNING *
),
{event_cte("ev", source="ins", report_id="report_id", actor_id="uploader_id",
           action=ev.PHOTO_ADDED,
           data="jsonb_build_object('photo_id', id, 'sha256', sha256, "
                "'size_bytes', size_bytes, 'purpose', purpose)")},
{outbox_cte("ob", source="ins", topic=topics.PHOTO_UPLOADED,
            payload="jsonb_build_object('photo_id', id)")}
SELECT id, report_id, uploader_id, sha256, content_type, size_bytes, width, height, uploaded_at,
       purpose, processed_at, exif_taken_at, ST_X(exif_location) AS exif_lon,
       ST_Y(exif_location) AS exif_lat, NULL::float AS exif_distance_m,
       NULL::text AS exif_source
  FROM ins
""")

_UNPROCESSED = text("""
    SELECT p.id, p.report_id, p.sha256, p.original_key,
           ST_X(r.location) AS lon, ST_Y(r.location) AS lat,
           p.exif_taken_at AS device_taken_at, ST_X(p.exif_location) AS device_lon,
           ST_Y(p.exif_location) AS device_lat
      FROM photos p JOIN reports r ON r.id = p.report_id
     WHERE p.id = ANY(CAST(:ids AS uuid[])) AND p.processed_at IS NULL
""")

_PROCESSED = text(f"""
WITH upd AS (
    UPDATE photos SET thumb_key = :thumb_key, display_key = :display_key,
           exif_taken_at = :taken_at,
           exif_location = CASE WHEN CAST(:lon AS float8) IS NULL THEN NULL
                                ELSE ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) END,
           exif_distance_m = :distance_m, exif_source = :exif_source, processed_at = :now
     WHERE id = :id AND processed_at IS NULL
    RETURNING id, report_id
),
{event_cte("ev", source="upd", report_id="report_id", action=ev.PHOTO_PROCESSED,
           data="jsonb_build_object('photo_id', id, "
                "'exif_distance_m', CAST(:distance_m AS float8), "
                "'exif_source', CAST(:exif_source AS text))")}
SELECT count(*) FROM upd
""")


def find_photo(session: Session, photo_id: uuid.UUID):
    return session.execute(_FIND, {"id": photo_id}).mappings().first()


def insert_photo(session: Session, params: dict):
    """Insert the photo row with its audit event and the outbox message in one statement;
    returns the new row, or None if the id exists already. (Its case is marked changed by
    the caller, uploads.service, through cases: photos never write a case.)"""
    return session.execute(_INSERT, {**params, "now": clock.now()}).mappings().first()


def set_public(session: Session, photo_id: uuid.UUID, public: bool) -> None:
    """Mark a photo public (now, on the application's clock) or not; a photo marked already
    keeps its first time."""
    session.execute(text("""
        UPDATE photos SET public_at = CASE WHEN :public THEN coalesce(public_at, :now) END
         WHERE id = :id
    """), {"id": photo_id, "public": public, "now": clock.now()})


def report_scope(session: Session, report_id: uuid.UUID):
    """What decides who may see a report's photos (users.rules.Principal.may_see_report)."""
    return session.execute(text("""
        SELECT reporter_id, area_code, department_code, responsible_department_code,
               joint_departments
          FROM reports WHERE id = :id
    """), {"id": report_id}).mappings().first()


def unprocessed(session: Session, photo_ids: list[str]):
    return session.execute(_UNPROCESSED, {"ids": list(photo_ids)}).mappings().all()


# The cases of the photos, locked as every job that locks several cases locks them: by case
# number. A photo's event takes a key-share lock on its case; the routing job locks its cases
# FOR UPDATE by number (cases.queries.lock_unrouted). Both in one order, they cannot deadlock.
_LOCK_CASES_OF = text("""
    SELECT r.id FROM reports r
     WHERE r.id IN (SELECT report_id FROM photos WHERE id = ANY(CAST(:ids AS uuid[])))
     ORDER BY r.number
       FOR KEY SHARE OF r
""")


def mark_processed(session: Session, params: list[dict]) -> None:
    """Record each photo's derivatives and EXIF with its photo.processed event."""
    if not params:
        return
    session.execute(_LOCK_CASES_OF, {"ids": [str(p["id"]) for p in params]})
    now = clock.now()
    for p in params:
        session.execute(_PROCESSED, {**p, "now": now})


def of_case(session: Session, report_id: uuid.UUID, photo_ids: list[uuid.UUID]):
    """(id, purpose, uploader_id) of those of `photo_ids` that belong to the case."""
    return session.execute(text("""
        SELECT id, purpose, uploader_id FROM photos
         WHERE report_id = :r AND id = ANY(CAST(:ids AS uuid[]))
    """), {"r": report_id, "ids": [str(p) for p in photo_ids]}).mappings().all()


# resumable (tus) uploads

_UPLOAD_COLUMNS = """id, report_id, photo_id, uploader_id, purpose, content_type, device_exif,
                     length_bytes, offset_bytes, created_at, expires_at, completed_at"""


def insert_upload(session: Session, params: dict):
    """A new upload at offset 0; returns its row."""
    return session.execute(text(f"""
        INSERT INTO photo_uploads (id, report_id, photo_id, uploader_id, purpose, content_type,
                                   device_exif, length_bytes, expires_at, created_at)
        VALUES (:id, :report_id, :photo_id, :uploader_id, :purpose, :content_type,
                CAST(:device_exif AS jsonb), :length_bytes, :expires_at, :now)
        RETURNING {_UPLOAD_COLUMNS}
    """), {**params, "now": clock.now()}).mappings().one()


def open_uploads_of(session: Session, uploader_id: int, now) -> tuple[int, int]:
    """(count, reserved bytes) of a user's uploads neither completed nor expired."""
    row = session.execute(text("""
        SELECT count(*), coalesce(sum(length_bytes), 0) FROM photo_uploads
         WHERE uploader_id = :u AND completed_at IS NULL AND expires_at > :now
    """), {"u": uploader_id, "now": now}).one()
    return int(row[0]), int(row[1])


def photos_of_report(session: Session, report_id: uuid.UUID, now) -> int:
    """A report's photos and its open uploads (each will be one)."""
    return int(session.execute(text("""
        SELECT (SELECT count(*) FROM photos WHERE report_id = :r)
             + (SELECT count(*) FROM photo_uploads
                 WHERE report_id = :r AND completed_at IS NULL AND expires_at > :now)
    """), {"r": report_id, "now": now}).scalar())


def find_upload(session: Session, upload_id: uuid.UUID):
    return session.execute(text(f"SELECT {_UPLOAD_COLUMNS} FROM photo_uploads WHERE id = :id"),
                           {"id": upload_id}).mappings().first()


def advance_upload(session: Session, upload_id: uuid.UUID, old: int, new: int, expires_at):
    """Record the durable offset, if it still is `old`; returns the row, or None."""
    return session.execute(text(f"""
        UPDATE photo_uploads SET offset_bytes = :new, expires_at = :expires_at
         WHERE id = :id AND offset_bytes = :old
        RETURNING {_UPLOAD_COLUMNS}
    """), {"id": upload_id, "old": old, "new": new, "expires_at": expires_at}).mappings().first()


def complete_upload(session: Session, upload_id: uuid.UUID, now, expires_at) -> None:
    session.execute(text("""
        UPDATE photo_uploads SET completed_at = :now, expires_at = :expires_at
         WHERE id = :id AND completed_at IS NULL
    """), {"id": upload_id, "now": now, "expires_at": expires_at})


def delete_upload(session: Session, upload_id: uuid.UUID) -> None:
    session.execute(text("DELETE FROM photo_uploads WHERE id = :id"), {"id": upload_id})


def delete_expired_uploads(session: Session, now, limit: int) -> list[uuid.UUID]:
    """Forget up to `limit` uploads past their expiry; returns their ids (their files go next)."""
    return list(session.execute(text("""
        DELETE FROM photo_uploads WHERE id IN (
            SELECT id FROM photo_uploads WHERE expires_at <= :now
             ORDER BY expires_at LIMIT :limit FOR UPDATE SKIP LOCKED)
        RETURNING id
    """), {"now": now, "limit": limit}).scalars())
