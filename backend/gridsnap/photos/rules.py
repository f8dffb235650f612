"""Pure decisions about photos: their purposes and how one is shown."""

from __future__ import annotations

PURPOSES = ("report", "resolution", "verification")
SIZES = ("thumb", "display", "original")


def photo_view(p) -> dict:
    """A photo row as the API shows it, with the URLs of its sizes."""
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
        "urls": {size: f"/api/v1/photos/{pid}?size={size}" for size in SIZES},
    }
