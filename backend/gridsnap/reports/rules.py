"""Pure decisions about reports: the fingerprint that tells a replay from a conflict."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime


def fingerprint(*, reporter_id: int, category: str, description: str, address: str | None,
                lon: float, lat: float, accuracy_m: float | None, source: str,
                captured_at: datetime) -> bytes:
    """SHA-256 of the canonical submission: equal for an identical replay, else different.

    Times compare as instants (the same moment with another offset is the same report);
    coordinates at 1e-7 degrees (~1 cm), below what any phone measures.
    """
    canonical = {
        "reporter": reporter_id,
        "category": category,
        "description": description,
        "address": address or None,
        "lon": round(lon, 7),
        "lat": round(lat, 7),
        "accuracy_m": None if accuracy_m is None else round(accuracy_m, 2),
        "source": source,
        "captured_at": captured_at.astimezone(UTC).isoformat(timespec="microseconds"),
    }
    blob = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).digest()


def chain_codes(area_code: str | None) -> dict[str, str | None]:
    """The district/street/community/cell codes implied by the smallest covering area."""
    if area_code is None:
        return {"district": None, "street": None, "community": None, "cell": None}
    n = len(area_code)
    return {
        "district": area_code[:6],
        "street": area_code[:9] if n >= 9 else None,
        "community": area_code[:12] if n >= 12 else None,
        "cell": area_code if n >= 14 else None,
    }


def received_now() -> datetime:
    return datetime.now(UTC)
