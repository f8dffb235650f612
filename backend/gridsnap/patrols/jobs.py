"""The patrols' periodic task: purge the track points past their retention."""

from __future__ import annotations

from sqlalchemy.orm import Session

from . import service

PURGE_TRACKS = "patrols.purge_tracks"


def purge_tracks(session: Session, rt) -> int:
    return service.purge_tracks(session, rt.settings)


TASKS = {PURGE_TRACKS: purge_tracks}
