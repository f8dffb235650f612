"""The evaluation's periodic task: keep the facts of the months closed for good, and of the
current month to a watermark."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from . import service

log = logging.getLogger(__name__)

KEEP_MONTHS = "stats.keep_months"


def keep_months(session: Session, rt) -> int:
    """One closed month a run (a city-year's month is a fold of its whole trail): the newest
    closed month not kept yet; and the current month kept to a watermark a few minutes back
    (the reports touched since the last run folded again). The reports folded."""
    done = service.keep_closed_months(session, rt.settings, limit=1)
    for d in done:
        log.info("kept the indicator facts of %s: %s reports in %d ms",
                 d["period"], d["cases"], d["ms"])
    current = service.keep_current_month(session, rt.settings)
    if current:
        log.info("kept the indicator facts of %s to now: %d reports folded in %d ms",
                 current["period"], current["cases"], current["ms"])
        done.append(current)
    return sum(d["cases"] or 0 for d in done)


TASKS = {KEEP_MONTHS: keep_months}
