"""Pure decisions about photos: their purposes and how one is shown."""

from __future__ import annotations

from datetime import datetime

from ..users.rules import Principal

PURPOSES = ("report", "resolution", "verification")
SIZES = ("thumb", "display", "original")


def may_get_original(principal: Principal, *, uploader_id: int | None,
                     area_code: str | None) -> bool:
    """The uploaded bytes carry the full EXIF (GPS, camera): only the uploader, admins and the
    supervisors whose scope covers the case get them; everyone else the EXIF-free sizes."""
    if principal.id == uploader_id or principal.role == "admin":
        return True
    return principal.role == "supervisor" and principal.covers_area(area_code)


def _time(value):
    # a photo read as JSON (the case read model) carries its times as ISO 8601 strings
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def photo_view(p) -> dict:
    """A photo row (or its JSON from the case read model) as the API shows it, with the URLs
    of its sizes."""
    exif_location = None
    if p.get("exif_lon") is not None:
        exif_location = {"lon": p["exif_lon"], "lat": p["exif_lat"]}
    pid = p["id"]
    return {
        "id": pid, "sha256": p["sha256"], "content_type": p["content_type"],
        "size_bytes": p["size_bytes"], "width": p["width"], "height": p["height"],
        "uploaded_at": _time(p["uploaded_at"]), "processed": p.get("processed_at") is not None,
        "purpose": p.get("purpose", "report"),
        "exif_taken_at": _time(p.get("exif_taken_at")), "exif_location": exif_location,
        "exif_distance_m": p.get("exif_distance_m"),
        "urls": {size: f"/api/v1/photos/{pid}?size={size}" for size in SIZES},
    }
