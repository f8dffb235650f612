"""The campaigns' periodic task: propose the month's new 主动治理 hot spots to supervisors."""

from __future__ import annotations

from sqlalchemy.orm import Session

from . import service

PROPOSE_HOT_SPOTS = "campaigns.propose_hot_spots"


def propose_hot_spots(session: Session, rt) -> int:
    return service.propose_hot_spots(session, rt.settings)


TASKS = {PROPOSE_HOT_SPOTS: propose_hot_spots}
