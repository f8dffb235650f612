"""The follow-up processes and their composition root: RQ workers (with the scheduler for
retries) and the outbox relay.

`build_followup` is where the features meet the queue: each feature's jobs module lists the
outbox topics it handles and its periodic tasks, and this is the one place that knows them all.
"""

from __future__ import annotations

import logging
import signal
import time

from redis.exceptions import RedisError
from rq import Queue, Retry, SimpleWorker
from rq.job import Job

from .cases import jobs as case_jobs
from .extensions import Runtime
from .outbox import jobs as outbox_jobs
from .outbox.jobs import Followup
from .outbox.service import relay_pending, sweep_lost
from .photos import jobs as photo_jobs

log = logging.getLogger("gridsnap.worker")

_RUN_MESSAGES = f"{outbox_jobs.__name__}.run_messages"
_RUN_TASK = f"{outbox_jobs.__name__}.run_task"


def build_followup(rt: Runtime) -> Followup:
    """Every feature's outbox handlers and periodic tasks, with the runtime they run with."""
    handlers = {**case_jobs.OUTBOX_HANDLERS, **photo_jobs.OUTBOX_HANDLERS}
    return Followup(runtime=rt, handlers=handlers, tasks={**case_jobs.TASKS, **photo_jobs.TASKS})


class GridsnapWorker(SimpleWorker):
    """An RQ worker that runs jobs in-process with its Followup bound (outbox.jobs.current)."""

    def __init__(self, *args, followup: Followup, **kwargs):
        super().__init__(*args, **kwargs)
        self.followup = followup

    def execute_job(self, job, queue):
        with outbox_jobs.bound(self.followup):
            return super().execute_job(job, queue)


def make_enqueue(rt: Runtime):
    """An enqueue(specs) for the relay: one Redis pipeline, all jobs or none."""
    queue = Queue(rt.settings.queue_name, connection=rt.redis)
    retry = Retry(max=3, interval=list(rt.settings.job_retry_intervals[:3]))

    def enqueue(specs) -> None:
        datas = [Queue.prepare_data(_RUN_MESSAGES, args=(s.topic, s.message_ids),
                                    job_id=s.job_id, retry=retry, result_ttl=3600,
                                    failure_ttl=7 * 86400, timeout=600,
                                    description=f"{s.topic} ×{len(s.message_ids)}")
                 for s in specs]
        for i in range(0, len(datas), 500):
            queue.enqueue_many(datas[i:i + 500])

    return enqueue


def enqueue_overdue_sweep(rt: Runtime) -> None:
    """The minute's overdue sweep (one job per minute whatever the number of relays)."""
    minute = int(time.time() // 60)
    Queue(rt.settings.queue_name, connection=rt.redis).enqueue(
        _RUN_TASK, case_jobs.SWEEP_OVERDUE, job_id=f"sweep-overdue-{minute}",
        result_ttl=600, failure_ttl=86400, job_timeout=600)


def enqueue_upload_sweep(rt: Runtime) -> None:
    """The hour's sweep of abandoned resumable photo uploads (one job per hour)."""
    hour = int(time.time() // 3600)
    Queue(rt.settings.queue_name, connection=rt.redis).enqueue(
        _RUN_TASK, photo_jobs.SWEEP_UPLOADS, job_id=f"sweep-uploads-{hour}",
        result_ttl=600, failure_ttl=86400, job_timeout=600)


def make_job_states(rt: Runtime):
    def job_states(job_ids: list[str]) -> dict:
        out = {}
        for i in range(0, len(job_ids), 500):
            chunk = job_ids[i:i + 500]
            for job_id, job in zip(chunk, Job.fetch_many(chunk, connection=rt.redis),
                                   strict=True):
                out[job_id] = None if job is None else job.get_status(refresh=False)
        return out

    return job_states


def run_relay(rt: Runtime, *, once: bool = False, idle_s: float = 0.2,
              sweep_every_s: float = 30.0, stop_after_s: float | None = None) -> int:
    """Relay outbox messages to RQ until stopped; returns messages sent (useful with once)."""
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
    while not stopping:
        try:
            with rt.sessions() as session:
                sent = relay_pending(session, enqueue, default_batch=rt.settings.outbox_batch_size)
            sent_total += sent
            if time.monotonic() - last_sweep > sweep_every_s:
                with rt.sessions() as session:
                    sweep_lost(session, job_states)
                last_sweep = time.monotonic()
            if not once and time.monotonic() - last_overdue > 60:
                enqueue_overdue_sweep(rt)
                enqueue_upload_sweep(rt)  # the job id makes it once an hour
                last_overdue = time.monotonic()
            backoff = idle_s
        except RedisError as exc:
            # Redis down: messages wait safely in PostgreSQL; try again, less often.
            sent = 0
            backoff = min(backoff * 2, 10.0)
            log.warning("relay: Redis unavailable (%s); retrying in %.1f s", exc, backoff)
        if once:
            break
        if stop_after_s is not None and time.monotonic() - started > stop_after_s:
            break
        if sent == 0:
            time.sleep(backoff)
    return sent_total


def run_worker(followup: Followup, *, burst: bool = False) -> None:
    """An RQ worker that runs jobs in-process (no fork per job: ~3× the throughput of the
    forking worker on this kind of machine), with the scheduler that runs retries."""
    rt = followup.runtime
    queue = Queue(rt.settings.queue_name, connection=rt.redis)
    worker = GridsnapWorker([queue], connection=rt.redis, followup=followup)
    worker.work(with_scheduler=True, burst=burst, logging_level="WARNING")
