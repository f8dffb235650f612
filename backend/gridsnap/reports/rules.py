"""Pure decisions about reports: the fingerprint that tells a replay from a conflict, and
whether a capture time is plausible."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta


def fingerprint(*, reporter_id: int, category: str, description: str, address: str | None,
                lon: float, lat: float, accuracy_m: float | None, source: str,
                captured_at: datetime, origin: dict | None = None) -> bytes:
    """SHA-256 of the canonical submission: equal for an identical replay, else different.

    `origin` (a hotline call's source, nature, urgency and caller) takes part when given.
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
    if origin is not None:
        canonical["origin"] = origin
    blob = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).digest()


def capture_time_problem(captured_at: datetime, now: datetime, *, max_age_days: int,
                         max_ahead_seconds: int) -> str | None:
    """Why a device's capture time cannot be right, or None: an offline phone holds a report
    for weeks (up to max_age_days), not decades, and its clock may run a little ahead
    (max_ahead_seconds), not years."""
    if captured_at > now + timedelta(seconds=max_ahead_seconds):
        return (f"Lies in the future (more than {max_ahead_seconds} s ahead of the server's "
                "clock): check the phone's date and time.")
    if captured_at < now - timedelta(days=max_age_days):
        return (f"Lies more than {max_age_days} days in the past: check the phone's date and "
                "time.")
    return None
