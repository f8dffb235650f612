"""The disputes' periodic task: escalate the 可能激化 disputes nobody took on in time."""

from __future__ import annotations

from sqlalchemy.orm import Session

from . import service

ESCALATE_UNATTENDED = "disputes.escalate_unattended"


def escalate_unattended(session: Session, rt) -> int:
    return service.escalate_unattended(session, rt.settings)


TASKS = {ESCALATE_UNATTENDED: escalate_unattended}
