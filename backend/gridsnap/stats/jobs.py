"""The evaluation's periodic task: keep the facts of the months closed for good."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from . import service

log = logging.getLogger(__name__)

KEEP_MONTHS = "stats.keep_months"


def keep_months(session: Session, rt) -> int:
    """One month a run (a city-year's month is a fold of its whole trail): the newest closed
    month not kept yet."""
    done = service.keep_closed_months(session, rt.settings, limit=1)
    for d in done:
        log.info("kept the indicator facts of %s: %d reports in %d ms",
                 d["period"], d["cases"], d["ms"])
    return sum(d["cases"] for d in done)


TASKS = {KEEP_MONTHS: keep_months}
