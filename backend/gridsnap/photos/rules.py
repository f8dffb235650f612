"""Pure decisions about photos: their purposes and how one is shown."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta

from ..users.rules import Principal

PURPOSES = ("report", "resolution", "verification")
SIZES = ("thumb", "display", "original")
# where a photo's EXIF evidence came from: read from the stored bytes, or sent by the phone only
EXIF_FROM_FILE = "file"
EXIF_FROM_DEVICE = "device"
EXIF_SOURCES = (EXIF_FROM_FILE, EXIF_FROM_DEVICE)


def exif_source(*, from_file: bool, from_device: bool) -> str | None:
    """'file' when the bytes' own EXIF gave the time or the place, else 'device' when only the
    phone's values did, else None."""
    if from_file:
        return EXIF_FROM_FILE
    return EXIF_FROM_DEVICE if from_device else None


def may_get_original(principal: Principal, *, uploader_id: int | None,
                     area_code: str | None) -> bool:
    """The uploaded bytes carry the full EXIF (GPS, camera): only the uploader, admins and the
    supervisors whose scope covers the case get them; everyone else the EXIF-free sizes."""
    if principal.id == uploader_id or principal.role == "admin":
        return True
    return principal.role == "supervisor" and principal.covers_area(area_code)


def may_publish(principal: Principal, *, area_code: str | None) -> bool:
    """Marking a photo public (shown through Open311) is a supervisor's decision for the cases
    of their area, or an admin's."""
    return principal.role in ("supervisor", "admin") and principal.covers_area(area_code)


def _time(value):
    # a photo read as JSON (the case read model) carries its times as ISO 8601 strings
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def photo_view(p, principal: Principal, area_code: str | None) -> dict:
    """A photo row (or its JSON from the case read model, with its `uploader_id`) as the API
    shows it to `principal`, in a case of area `area_code`: with the URLs of the sizes they may
    fetch — the original only for those may_get_original lets have it."""
    exif_location = None
    if p.get("exif_lon") is not None:
        exif_location = {"lon": p["exif_lon"], "lat": p["exif_lat"]}
    pid = p["id"]
    return {
        "id": pid, "sha256": p["sha256"], "content_type": p["content_type"],
        "size_bytes": p["size_bytes"], "width": p["width"], "height": p["height"],
        "uploaded_at": _time(p["uploaded_at"]), "processed": p.get("processed_at") is not None,
        "public": p.get("public_at") is not None,
        "purpose": p.get("purpose", "report"),
        "exif_taken_at": _time(p.get("exif_taken_at")), "exif_location": exif_location,
        "exif_distance_m": p.get("exif_distance_m"), "exif_source": p.get("exif_source"),
        "urls": {size: f"/api/v1/photos/{pid}?size={size}" for size in SIZES
                 if size != "original" or may_get_original(
                     principal, uploader_id=p["uploader_id"], area_code=area_code)},
    }


# tus 1.0.0 (https://tus.io/protocols/resumable-upload): the resumable upload of a photo
TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = ("creation", "termination", "expiration")
# what Upload-Metadata may carry: the photo's binding (report_id, photo_id, purpose), its
# content type, and the EXIF the phone read (as the plain PUT's query)
UPLOAD_METADATA_KEYS = ("report_id", "photo_id", "purpose", "content_type", "exif_taken_at",
                        "exif_lon", "exif_lat")


class MetadataError(ValueError):
    """Upload-Metadata that does not follow the tus grammar."""


def parse_upload_metadata(header: str) -> dict[str, str]:
    """tus Upload-Metadata ("key base64value,key2 base64value2,key3") as {key: value}.

    Keys are non-empty, without spaces or commas, and unique; values are Base64 of UTF-8 text
    (a key alone has the value ""). Raises MetadataError otherwise.
    """
    out: dict[str, str] = {}
    if not header.strip():
        return out
    for pair in header.split(","):
        parts = pair.strip().split(" ")
        key = parts[0]
        if not key or len(parts) > 2 or key in out:
            raise MetadataError(f"Bad pair {pair.strip()!r}.")
        raw = parts[1] if len(parts) == 2 else ""
        try:
            out[key] = base64.b64decode(raw, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise MetadataError(f"The value of {key!r} is not Base64 of UTF-8 text.") from None
    return out


def upload_expires_at(now: datetime, hours: int, *, created_at: datetime | None = None,
                      max_age_hours: int | None = None) -> datetime:
    """When an upload created (or last advanced) at `now` may be swept: `hours` on, but never
    later than `max_age_hours` after its creation (advancing it a byte at a time does not keep
    it forever)."""
    expires = now + timedelta(hours=hours)
    if created_at is not None and max_age_hours is not None:
        expires = min(expires, created_at + timedelta(hours=max_age_hours))
    return expires


def upload_offset_view(upload) -> dict:
    """The tus state of an upload row: {offset, length, expires_at}."""
    return {"offset": upload["offset_bytes"], "length": upload["length_bytes"],
            "expires_at": upload["expires_at"], "completed": upload["completed_at"] is not None}
