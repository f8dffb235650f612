"""Outbox topics and how messages are grouped into RQ jobs: pure decisions, no I/O."""

from __future__ import annotations

import errno
from collections import defaultdict
from dataclasses import dataclass

# Topics: past-tense events that need follow-up. The feature that reacts to one registers its
# handler with the worker (see worker.build_followup).
REPORT_SUBMITTED = "report.submitted"
PHOTO_UPLOADED = "photo.uploaded"
CASE_DEADLINE = "case.deadline"

# Messages per job, by topic: routing is cheap per message, photos are ~0.1 s each.
BATCH_SIZES = {PHOTO_UPLOADED: 4}
DEFAULT_BATCH = 100

# How long one job may run before RQ stops it, by topic: a batch of 4 photos is a few seconds
# of decoding (draft mode) even at the pixel limit; a worker killed mid-job is noticed by the
# sweep from its heartbeat (worker.make_job_states), but RQ itself gives up on a job only after
# this plus a minute, so it must fit the work, not be ten minutes for everything.
JOB_TIMEOUTS_S = {PHOTO_UPLOADED: 120}
DEFAULT_JOB_TIMEOUT_S = 600

# One retry policy, the outbox's own: a message whose handler failed is made pending again, not
# before a growing delay (settings.job_retry_intervals, the last repeated), and after
# MAX_ATTEMPTS it is marked failed for a person to look at (`gridsnap outbox retry-failed`).
# RQ's own retries are not used: they need RQ's scheduler alive, and a retry it holds
# ("scheduled") is invisible to the sweep.
MAX_ATTEMPTS = 5


def retry_delay_s(attempts: int, intervals: tuple[int, ...]) -> int:
    """The pause before the next try of a message that has failed `attempts` times (>= 1)."""
    return intervals[min(attempts, len(intervals)) - 1] if intervals else 0


# Job states in which a message in flight will never be done by its job: the sweep sends it
# again. "abandoned" is ours: started by a worker that is gone (worker.make_job_states).
LOST_JOB_STATES = frozenset({None, "failed", "stopped", "canceled", "finished", "abandoned"})


# A resource running out (a full disk, a quota, memory, file handles) is a passing fault, like
# an outage: the message is postponed with back-off until it clears — as long as the message has
# waited so far, between these bounds — never counted as a failed attempt. Its last_error starts
# with EXHAUSTED, which /health counts and reports (degraded) until the message is done.
# EAGAIN ("resource temporarily unavailable") is the photo store's outage (an S3 server away or
# answering 5xx: storage.StoreUnavailable): the photos wait for it the same way.
EXHAUSTION_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.ENOMEM, errno.EMFILE,
                               errno.ENFILE, errno.EAGAIN})
EXHAUSTED = "resource exhausted: "
POSTPONE_MIN_S, POSTPONE_MAX_S = 15, 300


def exhaustion(exc: BaseException | None) -> BaseException | None:
    """The resource-exhaustion error (OSError of EXHAUSTION_ERRNOS, or MemoryError) that `exc`
    is or was caused by, else None."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, MemoryError) or (isinstance(exc, OSError)
                                            and exc.errno in EXHAUSTION_ERRNOS):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def job_timeout_s(topic: str) -> int:
    return JOB_TIMEOUTS_S.get(topic, DEFAULT_JOB_TIMEOUT_S)


@dataclass(frozen=True)
class JobSpec:
    job_id: str
    topic: str
    message_ids: list[int]


def plan_jobs(rows, default_batch: int = DEFAULT_BATCH) -> list[JobSpec]:
    """Group claimed (id, topic) rows into jobs of at most the topic's batch size."""
    by_topic: dict[str, list[int]] = defaultdict(list)
    for message_id, topic in rows:
        by_topic[topic].append(message_id)
    specs = []
    for topic, ids in by_topic.items():
        size = BATCH_SIZES.get(topic, default_batch)
        for i in range(0, len(ids), size):
            chunk = ids[i:i + size]
            # RQ ids allow letters, digits, _ and -: "outbox-report_submitted-17-116-100"
            job_id = f"outbox-{topic.replace('.', '_')}-{chunk[0]}-{chunk[-1]}-{len(chunk)}"
            specs.append(JobSpec(job_id, topic, chunk))
    return specs
