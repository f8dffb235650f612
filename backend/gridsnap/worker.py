"""The follow-up processes and their composition root: RQ workers and the outbox relay.

`build_followup` is where the features meet the queue: each feature's jobs module lists the
outbox topics it handles and its periodic tasks, and this is the one place that knows them all.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from rq.intermediate_queue import IntermediateQueue
from rq.job import Job

from . import models as _models  # noqa: F401 (every table known to the sessions)
from . import transaction
from .campaigns import jobs as campaign_jobs
from .cases import jobs as case_jobs
from .db import UNAVAILABLE_ERRORS
from .deadlines.service import ANNOUNCED_ENV, log_missing_years
from .disputes import jobs as dispute_jobs
from .extensions import Runtime
from .outbox import jobs as outbox_jobs
from .outbox.jobs import Followup
from .outbox.rules import job_timeout_s
from .outbox.service import CLAIM_LIMIT, relay_pending, sweep_lost
from .patrols import jobs as patrol_jobs
from .photos import jobs as photo_jobs
from .stats import jobs as stats_jobs

log = logging.getLogger("gridsnap.worker")

_RUN_MESSAGES = f"{outbox_jobs.__name__}.run_messages"
_RUN_TASK = f"{outbox_jobs.__name__}.run_task"


def build_followup(rt: Runtime) -> Followup:
    """Every feature's outbox handlers and periodic tasks, with the runtime they run with."""
    handlers = {**case_jobs.OUTBOX_HANDLERS, **photo_jobs.OUTBOX_HANDLERS}
    return Followup(runtime=rt, handlers=handlers, tasks={**case_jobs.TASKS, **photo_jobs.TASKS,
                                                          **dispute_jobs.TASKS,
                                                          **patrol_jobs.TASKS,
                                                          **campaign_jobs.TASKS,
                                                          **stats_jobs.TASKS})


class GridsnapWorker(SimpleWorker):
    """An RQ worker that runs jobs in-process with its Followup bound (outbox.jobs.current)."""

    def __init__(self, *args, followup: Followup, **kwargs):
        super().__init__(*args, **kwargs)
        self.followup = followup

    def execute_job(self, job, queue):
        with outbox_jobs.bound(self.followup):
            return super().execute_job(job, queue)


def make_enqueue(rt: Runtime):
    """An enqueue(specs) for the relay: one Redis pipeline, all jobs or none. No RQ retries:
    a failed message is retried by the outbox itself (outbox.rules.retry_delay_s)."""
    queue = Queue(rt.settings.queue_name, connection=rt.redis)

    def enqueue(specs) -> None:
        datas = [Queue.prepare_data(_RUN_MESSAGES, args=(s.topic, s.message_ids),
                                    job_id=s.job_id, result_ttl=3600,
                                    failure_ttl=7 * 86400, timeout=job_timeout_s(s.topic),
                                    description=f"{s.topic} ×{len(s.message_ids)}")
                 for s in specs]
        for i in range(0, len(datas), 500):
            queue.enqueue_many(datas[i:i + 500])

    return enqueue


# the periodic tasks the relay puts on the queue: (task name, job id prefix, period in seconds)
PERIODIC = ((case_jobs.SWEEP_OVERDUE, "sweep-overdue", 60),
            (case_jobs.RESUME_SUSPENDED, "resume-suspended", 300),
            (photo_jobs.SWEEP_UPLOADS, "sweep-uploads", 3600),
            (dispute_jobs.ESCALATE_UNATTENDED, "escalate-disputes", 300),
            (patrol_jobs.PURGE_TRACKS, "purge-tracks", 3600),
            (campaign_jobs.PROPOSE_HOT_SPOTS, "propose-hot-spots", 3600),
            (stats_jobs.KEEP_MONTHS, "keep-months", 600))


def enqueue_periodic(rt: Runtime) -> None:
    """Each periodic task once per period, whatever the number of relays: the job id names the
    period (the overdue sweep every minute, 挂账 cases due back every five minutes, the sweep of
    abandoned uploads every hour, unattended 可能激化 disputes every five minutes, tracks past their
    retention every hour, the month's new 主动治理 hot spots proposed every hour, a closed
    month's indicator facts kept every ten minutes until none is left)."""
    queue = Queue(rt.settings.queue_name, connection=rt.redis)
    now = time.time()
    for task, prefix, period_s in PERIODIC:
        queue.enqueue(_RUN_TASK, task, job_id=f"{prefix}-{int(now // period_s)}",
                      result_ttl=600, failure_ttl=86400, job_timeout=600)


_WORKER_KEY = SimpleWorker.redis_worker_namespace_prefix


# a job taken off the queue (into RQ's intermediate queue) that no worker started this long
# after the sweep first saw it there: its worker lost Redis between the two steps
STRANDED_S = 30


def make_job_states(rt: Runtime):
    """job_states(job ids) -> {id: RQ status, None if Redis has no such job, or "abandoned" for
    a started job whose worker is gone (its heartbeat expired, it died, or a successor took its
    name: a worker's key names the job it runs now), and for a job stranded in RQ's intermediate
    queue: taken off the queue by a worker that lost Redis before starting it. RQ itself fails
    such a job only in its ten-minute maintenance; this takes it out of the intermediate queue
    once it has stayed there STRANDED_S after the sweep first saw it (the job handlers are
    idempotent, so a job that was only slow runs harmlessly twice)."""
    queue = Queue(rt.settings.queue_name, connection=rt.redis)
    intermediate = IntermediateQueue(queue.key, rt.redis)

    def stranded(job_id: str) -> bool:
        if rt.redis.lpos(intermediate.key, job_id) is None or intermediate.set_first_seen(job_id):
            return False
        first = intermediate.get_first_seen(job_id)
        # RQ stamps first-seen with the machine's time (not the application's clock)
        if first is None or time.time() - first.timestamp() < STRANDED_S:
            return False
        intermediate.remove(job_id)
        return True

    def job_states(job_ids: list[str]) -> dict:
        out = {}
        for i in range(0, len(job_ids), 500):
            chunk = job_ids[i:i + 500]
            started = []
            for job_id, job in zip(chunk, Job.fetch_many(chunk, connection=rt.redis),
                                   strict=True):
                out[job_id] = None if job is None else job.get_status(refresh=False)
                if job is not None and out[job_id] == "started":
                    started.append((job_id, job.worker_name or ""))
                elif out[job_id] == "queued" and stranded(job_id):
                    out[job_id] = "abandoned"
            if started:
                with rt.redis.pipeline(transaction=False) as pipe:
                    for _job_id, worker in started:
                        pipe.hmget(f"{_WORKER_KEY}{worker}", "death", "current_job")
                    seen = pipe.execute()
                for (job_id, _worker), (death, current) in zip(started, seen, strict=True):
                    if death is not None or current is None or current.decode() != job_id:
                        out[job_id] = "abandoned"
        return out

    return job_states


def run_relay(rt: Runtime, *, once: bool = False, idle_s: float = 0.2,
              sweep_every_s: float = 15.0, stop_after_s: float | None = None) -> int:
    """Relay outbox messages to RQ until stopped; returns messages sent (useful with once).

    After a claim that took all there was (fewer than CLAIM_LIMIT, none at all included) the
    relay waits `idle_s` before the next one, so that the messages of a steady stream of
    reports gather into jobs of many: each job's own cost (RQ's bookkeeping in Redis, the
    job's statements: load, lock, routing rules, supervisors, links, done) is shared by the
    reports of that pause, not paid every few reports (a relay that claimed again at once
    made jobs of ~5 messages at 180 reports/s). A message waits at most `idle_s` for its
    claim, as one arriving while the relay is idle always did; a backlog (a full claim) is
    claimed again at once.

    An outage of Redis or PostgreSQL is waited out with a growing pause (up to 10 s), never a
    reason to exit (invariant 9): the messages wait in PostgreSQL meanwhile.
    """
    enqueue, job_states = make_enqueue(rt), make_job_states(rt)
    stopping = False

    def _stop(*_):
        nonlocal stopping
        stopping = True

    if not once:
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    sent_total, backoff, last_sweep, last_overdue = 0, idle_s, 0.0, 0.0
    started = time.monotonic()
    stopped = threading.Event()
    while not stopping:
        try:
            with rt.sessions() as session, transaction.unit(session, "relay"):
                sent = relay_pending(session, enqueue, default_batch=rt.settings.outbox_batch_size)
            sent_total += sent
            if time.monotonic() - last_sweep > sweep_every_s:
                with rt.sessions() as session, transaction.unit(session, "relay's sweep"):
                    sweep_lost(session, job_states)
                last_sweep = time.monotonic()
            if not once and time.monotonic() - last_overdue > 60:
                enqueue_periodic(rt)
                last_overdue = time.monotonic()
            backoff = idle_s
        except RedisError as exc:
            # Redis down: messages wait safely in PostgreSQL; try again, less often.
            sent = 0
            backoff = min(backoff * 2, 10.0)
            log.warning("relay: Redis unavailable (%s); retrying in %.1f s", exc, backoff)
        except UNAVAILABLE_ERRORS as exc:
            # PostgreSQL down or restarting: the pool drops the broken connections
            sent = 0
            backoff = min(backoff * 2, 10.0)
            log.warning("relay: PostgreSQL unavailable (%s); retrying in %.1f s",
                        type(exc).__name__, backoff)
        if once:
            break
        if stop_after_s is not None and time.monotonic() - started > stop_after_s:
            break
        if sent < CLAIM_LIMIT and not stopping:
            stopped.wait(backoff)
    return sent_total


def _retire_predecessor(rt: Runtime, name: str) -> None:
    """A worker's slot (`name`) has one process at a time: a live-looking registration under it
    is a predecessor that died (kill -9, OOM). Mark it dead, so that its job reads "abandoned"
    to the sweep at once, not when its heartbeat expires."""
    key = f"{_WORKER_KEY}{name}"
    death, current = rt.redis.hmget(key, "death", "current_job")
    if rt.redis.exists(key) and death is None:
        old = SimpleWorker.find_by_key(key, connection=rt.redis)
        if old is not None:
            old.register_death()
        log.warning("worker %s: the previous process of this slot died%s", name,
                    f" running {current.decode()}; its messages will be sent again"
                    if current else "")


def run_worker(followup: Followup, *, burst: bool = False, name: str | None = None,
               max_backoff_s: float = 10.0) -> None:
    """An RQ worker that runs jobs in-process (no fork per job: ~3× the throughput of the
    forking worker on this kind of machine). No RQ scheduler: retries are the outbox's
    (outbox.rules.retry_delay_s) and the periodic tasks are put on the queue by the relay.

    `name` is the worker's slot (e.g. "host-worker-0" under supervisord): a restarted worker
    retires its dead predecessor's registration, which lets the sweep re-send that one's job
    at once. Redis going away ends RQ's loop; this waits (growing pauses up to `max_backoff_s`)
    and starts a new one, until SIGTERM/SIGINT (invariant 9). A database outage leaves the
    messages of the jobs it meets undone, which the outbox sweep re-sends.
    """
    rt = followup.runtime
    # the deadlines it computes: a bad holidays file stops it
    log_missing_years(rt.settings, announced=os.environ.get(ANNOUNCED_ENV) == "1")
    queue = Queue(rt.settings.queue_name, connection=rt.redis)
    stop = threading.Event()
    backoff = 0.5
    while True:
        began, worker = time.monotonic(), None
        try:
            # inside the try: RQ's constructor talks to Redis (CLIENT SETNAME)
            worker = GridsnapWorker([queue], connection=rt.redis, followup=followup, name=name)
            if name is not None:
                _retire_predecessor(rt, name)
            if stop.is_set():  # stopped while waiting for Redis
                return
            worker.work(with_scheduler=False, burst=burst, logging_level="WARNING")
            if burst or worker._shutdown_requested_date is not None:
                return
            log.warning("worker %s: its loop ended (Redis away?); starting again in %.1f s",
                        worker.name, backoff)
        except (RedisError, OSError) as exc:  # registering or tearing down while Redis is away
            if burst:
                raise
            log.warning("worker %s: Redis unavailable (%s); retrying in %.1f s",
                        worker.name if worker is not None else name or "(starting)",
                        type(exc).__name__, backoff)
        # RQ's handlers are gone with its loop (or were never set); a stop now ends the wait
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        if time.monotonic() - began > 60:
            backoff = 0.5  # it had worked a while: a new outage starts with short pauses
        if stop.wait(backoff):
            return
        backoff = min(backoff * 2, max_backoff_s)
