"""The one place the application reads the time, so tests can move it (a controlled clock)."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current instant, timezone-aware UTC."""
    return datetime.now(UTC)


def stamp() -> datetime:
    """`now()` looked up at call time: the Python-side default of the models' time columns, so
    an ORM insert takes the application's clock too (one clock for every row)."""
    return now()
