"""Follow-up jobs for photos: verify, read EXIF, make thumbnail and display sizes."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from .imaging import distance_m, make_derivatives, read_exif
from .storage import derivative_key

log = logging.getLogger(__name__)

_UNPROCESSED = text("""
    SELECT p.id, p.report_id, p.sha256, p.original_key,
           ST_X(r.location) AS lon, ST_Y(r.location) AS lat
      FROM photos p JOIN reports r ON r.id = p.report_id
     WHERE p.id = ANY(CAST(:ids AS uuid[])) AND p.processed_at IS NULL
""")

_PROCESSED = text("""
WITH upd AS (
    UPDATE photos SET thumb_key = :thumb_key, display_key = :display_key,
           exif_taken_at = :taken_at,
           exif_location = CASE WHEN CAST(:lon AS float8) IS NULL THEN NULL
                                ELSE ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) END,
           exif_distance_m = :distance_m, processed_at = now()
     WHERE id = :id AND processed_at IS NULL
    RETURNING id, report_id
)
INSERT INTO case_events (report_id, action, data)
SELECT report_id, 'photo.processed',
       jsonb_build_object('photo_id', id, 'exif_distance_m', CAST(:distance_m AS float8))
  FROM upd
""")


def process_photos(session: Session, rt, photo_ids: list[str]) -> int:
    """Make the derivatives of each unprocessed photo and record its EXIF time and place.

    Idempotent: derivatives are stored under the content hash and a processed photo is skipped.
    The original stays private and untouched; derivatives carry no EXIF (no GPS leaks).
    Returns how many photos were processed.
    """
    storage = rt.storage
    rows = session.execute(_UNPROCESSED, {"ids": list(photo_ids)}).mappings().all()
    params = []
    for r in rows:
        data = storage.get(r["original_key"])
        exif = read_exif(data)
        keys = {}
        for size, d in make_derivatives(data, max_pixels=rt.settings.photo_max_pixels).items():
            key = derivative_key(r["sha256"], size)
            if not storage.exists(key):
                storage.put(key, d.data, "image/jpeg")
            keys[size] = key
        distance = None
        if exif.lat is not None and exif.lon is not None:
            distance = round(distance_m(r["lon"], r["lat"], exif.lon, exif.lat), 1)
        taken_at = exif.taken_at
        if taken_at is not None and taken_at.tzinfo is None:
            # cameras write local wall time without an offset: read it in the deployment's zone
            taken_at = taken_at.replace(tzinfo=ZoneInfo(rt.settings.timezone))
        params.append({"id": r["id"], "thumb_key": keys["thumb"], "display_key": keys["display"],
                       "taken_at": taken_at, "lon": exif.lon, "lat": exif.lat,
                       "distance_m": distance})
    if params:
        session.execute(_PROCESSED, params)
    return len(params)
