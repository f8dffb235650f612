"""Follow-up jobs for photos: verify, read EXIF, make thumbnail and display sizes."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from .. import clock
from ..grid.rules import distance_m
from ..outbox import rules as topics
from ..storage import derivative_key
from . import queries, rules, service
from .imaging import PhotoError, make_derivatives_bounded, read_exif

log = logging.getLogger(__name__)

def process_photos(session: Session, rt, photo_ids: list[str]) -> int:
    """Make the derivatives of each unprocessed photo and record its EXIF time and place.

    Idempotent: derivatives are stored under the content hash and a processed photo is skipped.
    The original stays private and untouched; derivatives carry no EXIF (no GPS leaks).
    Returns how many photos were processed.
    """
    storage = rt.storage
    rows = queries.unprocessed(session, photo_ids)
    params = []
    for r in rows:
        data = storage.get(r["original_key"])
        exif = read_exif(data)
        keys = {}
        try:
            derivatives = make_derivatives_bounded(
                data, max_pixels=rt.settings.photo_max_pixels,
                memory_bytes=rt.settings.photo_decode_max_bytes)
        except PhotoError as exc:
            # accepted on a header check (a large WebP is not decoded in the request) but not
            # decodable within the memory ceiling, or damaged: it stays without its sizes
            # (photo.not_ready to viewers; the original is kept), and the batch goes on
            log.warning("photo %s: no derivatives: %s", r["id"], exc)
            continue
        for size, d in derivatives.items():
            key = derivative_key(r["sha256"], size)
            if not storage.exists(key):
                storage.put(key, d.data, "image/jpeg")
            keys[size] = key
        taken_at = exif.taken_at
        if taken_at is not None and taken_at.tzinfo is None:
            # cameras write local wall time without an offset: read it in the deployment's zone
            taken_at = taken_at.replace(tzinfo=ZoneInfo(rt.settings.timezone))
        # the bytes' own EXIF first (the camera's, which the phone copies into a photo it makes
        # smaller); else what the phone read and sent; exif_source says which
        from_file = taken_at is not None or (exif.lon is not None and exif.lat is not None)
        lon, lat = exif.lon, exif.lat
        if lon is None or lat is None:
            lon, lat = r["device_lon"], r["device_lat"]
        from_device = (r["device_taken_at"] is not None
                       or (r["device_lon"] is not None and r["device_lat"] is not None))
        taken_at = taken_at or r["device_taken_at"]
        distance = None
        if lat is not None and lon is not None:
            distance = round(distance_m(r["lon"], r["lat"], lon, lat), 1)
        params.append({"id": r["id"], "thumb_key": keys["thumb"], "display_key": keys["display"],
                       "taken_at": taken_at, "lon": lon, "lat": lat, "distance_m": distance,
                       "exif_source": rules.exif_source(from_file=from_file,
                                                        from_device=from_device)})
    queries.mark_processed(session, params)
    return len(params)


def _photos_uploaded(session: Session, rt, payloads: list[dict]) -> None:
    process_photos(session, rt, [p["photo_id"] for p in payloads])


SWEEP_UPLOADS = "photos.sweep_uploads"


def sweep_uploads(session: Session, rt) -> int:
    """Every hour: forget resumable uploads abandoned past their expiry, and their bytes."""
    return service.sweep_expired_uploads(session, rt.partials, clock.now())


# what this feature does with outbox messages and its periodic tasks (registered by
# worker.build_followup)
OUTBOX_HANDLERS = {topics.PHOTO_UPLOADED: _photos_uploaded}
TASKS = {SWEEP_UPLOADS: sweep_uploads}
