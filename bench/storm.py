"""The sync storm: reports and photos arriving as fast as the API takes them, with the follow-up
(outbox relay and two RQ workers) running at the same time; then how long until all is done."""

from __future__ import annotations

import http.client
import json
import random
import subprocess
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from . import database
from .cpu import group_cpu_s, machine_busy_s
from .env import REPO_ROOT, VENV_BIN, BenchEnv
from .grid import Grid
from .photos import PhotoSet
from .procs import ProcessFailed, Procs

CONNECTIONS = 16
# With the intake over, no progress for this long, and RQ idle (nothing queued, running or
# scheduled for retry): the messages left will not be done. Declared stuck if their jobs say
# "finished" (the relay's sweep re-sends only jobs that are gone or failed).
STALL_S = 20.0
SENTINEL = "gridsnap-bench:sentinel"


@dataclass
class StormResult:
    reports: int
    photos: int
    photo_mean_bytes: float
    intake_s: float
    reports_per_s: float
    photos_per_s: float
    report_p50_ms: float
    report_p99_ms: float
    photo_p50_ms: float
    photo_p99_ms: float
    client_errors: dict[str, int]  # "report 500": n, "photo -1" (network): n
    drained: bool
    drain_s: float | None  # from the first request until no outbox message was left to do
    drain_over_intake: float | None
    outbox_total: int
    outbox_failed: int
    outbox_retried: int
    rq_failed_jobs: int  # outbox batches (gridsnap.outbox.jobs.run_messages) that failed
    rq_other_failed: dict[str, str]  # other failed jobs (periodic sweeps): job id -> error
    scheduled_later: int  # messages not due yet (stage deadline checks), not waited for
    routed: int
    photos_processed: int
    derivative_files_missing: int
    last_done_by_topic_s: dict[str, float]
    redis_flushed: bool = False  # someone emptied our Redis db meanwhile: the run is spoilt
    stuck_messages: int = 0  # in flight for good: their job finished without doing them
    stuck_jobs: dict[str, str] = field(default_factory=dict)  # job id -> status and result
    cpu_s: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict:
        return asdict(self) | {"ok": self.ok}


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


class _Client:
    """16 threads, each with its own keep-alive HTTP connection, working through the reports in
    order; every `every`-th report is followed by its photo (as a phone would upload them)."""

    def __init__(self, port: int, token: str, grid: Grid, n_reports: int, n_photos: int,
                 photos: PhotoSet) -> None:
        self.port, self.token, self.photos = port, token, photos
        rnd = random.Random(20261123)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        self.ids = [uuid.uuid4() for _ in range(n_reports)]
        self.bodies = []
        for _ in range(n_reports):
            lon, lat = grid.point(rnd)
            self.bodies.append(json.dumps({
                "category": "E0101", "description": "storm report",
                "location": {"lon": round(lon, 7), "lat": round(lat, 7), "accuracy_m": 8.5,
                             "source": "gps"},
                "captured_at": now}).encode())
        self.every = max(1, n_reports // n_photos) if n_photos else 0
        self.n_photos = n_photos
        self.next = 0
        self.lock = threading.Lock()
        self.report_lat: list[float] = []
        self.photo_lat: list[float] = []
        self.statuses: Counter = Counter()
        self.first = self.last = None
        self.done_reports = 0
        self.stop = False

    def _take(self) -> int | None:
        with self.lock:
            if self.stop or self.next >= len(self.ids):
                return None
            k, self.next = self.next, self.next + 1
            return k

    def _put(self, conn, path: str, body: bytes, ctype: str) -> tuple[int, float, float]:
        t0 = time.perf_counter()
        try:
            conn.request("PUT", path, body=body, headers={
                "Content-Type": ctype, "Authorization": f"Bearer {self.token}"})
            resp = conn.getresponse()
            resp.read()
            status = resp.status
        except (OSError, http.client.HTTPException):
            conn.close()
            status = -1
        return status, t0, time.perf_counter()

    def _note(self, kind: str, status: int, t0: float, t1: float, lat: list) -> None:
        with self.lock:
            self.statuses[f"{kind} {status}"] += 1
            lat.append(t1 - t0)
            self.first = t0 if self.first is None else min(self.first, t0)
            self.last = t1 if self.last is None else max(self.last, t1)
            if kind == "report":
                self.done_reports += 1

    def worker(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            while (k := self._take()) is not None:
                rid = self.ids[k]
                status, t0, t1 = self._put(conn, f"/api/v1/reports/{rid}", self.bodies[k],
                                           "application/json")
                self._note("report", status, t0, t1, self.report_lat)
                if self.every and k % self.every == 0 and k // self.every < self.n_photos:
                    pid = uuid.UUID(int=random.getrandbits(128), version=4)
                    status, t0, t1 = self._put(conn, f"/api/v1/reports/{rid}/photos/{pid}",
                                               self.photos.photo(k), "image/jpeg")
                    self._note("photo", status, t0, t1, self.photo_lat)
        finally:
            conn.close()


# Messages the follow-up still owes now. Scheduled ones (a case's stage deadline check, sent
# when it falls due) are not part of the storm's follow-up and are counted apart.
_DUE = "(available_at IS NULL OR available_at <= now())"
_OUTBOX = """
SELECT count(*) FILTER (WHERE {due}),
       count(*) FILTER (WHERE done_at IS NULL AND failed_at IS NULL AND {due}),
       count(*) FILTER (WHERE failed_at IS NOT NULL),
       count(*) FILTER (WHERE attempts > 0),
       count(*) FILTER (WHERE done_at IS NULL AND failed_at IS NULL AND NOT {due})
  FROM outbox
"""


def _has_column(db, table: str, column: str) -> bool:
    return db.execute("SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE "
                      "table_name = %s AND column_name = %s)", (table, column)).fetchone()[0]


def _outbox_sql(db) -> str:
    due = _DUE if _has_column(db, "outbox", "available_at") else "TRUE"
    return _OUTBOX.format(due=due)


def _routed_sql(db) -> str:
    """Reports routed: routed_at and due_at set, and a department (the suggestion, where the
    schema has one, or the assigned department)."""
    dept = ("coalesce(department_code, suggested_department_code)"
            if _has_column(db, "reports", "suggested_department_code") else "department_code")
    return (f"SELECT count(*), count(*) FILTER (WHERE routed_at IS NOT NULL AND due_at IS NOT"
            f" NULL AND {dept} IS NOT NULL) FROM reports")


def _failed_jobs(r) -> tuple[int, dict[str, str]]:
    """(outbox jobs failed, {other failed job: its last error line}) in RQ's failed registry."""
    from rq import Queue
    from rq.job import Job
    from rq.registry import FailedJobRegistry

    ids = FailedJobRegistry(queue=Queue("gridsnap", connection=r)).get_job_ids()
    outbox, other = 0, {}
    for job_id, job in zip(ids, Job.fetch_many(ids, connection=r), strict=True):
        if job is not None and job.func_name == "gridsnap.outbox.jobs.run_messages":
            outbox += 1
        else:
            info = (job.exc_info or "").strip().splitlines() if job is not None else []
            other[job_id] = (f"{job.func_name if job else '?'}: "
                             f"{info[-1] if info else 'no error recorded'}")
    return outbox, other


def _stuck_jobs(db, r) -> dict[str, str]:
    """{job id: "status result"} of the jobs of undone in-flight messages, if RQ is idle and
    every one of those jobs finished (nothing will ever do these messages); else {}."""
    from rq import Queue
    from rq.job import Job
    from rq.registry import ScheduledJobRegistry, StartedJobRegistry

    q = Queue("gridsnap", connection=r)
    if q.count or len(StartedJobRegistry(queue=q)) or len(ScheduledJobRegistry(queue=q)):
        return {}
    due = _DUE if _has_column(db, "outbox", "available_at") else "TRUE"
    rows = db.execute("SELECT job_id, count(*) FROM outbox WHERE done_at IS NULL AND failed_at"
                      f" IS NULL AND {due} GROUP BY job_id").fetchall()
    if not rows or any(job_id is None for job_id, _ in rows):
        return {}
    out = {}
    for (job_id, n), job in zip(rows, Job.fetch_many([j for j, _ in rows], connection=r),
                                strict=True):
        status = None if job is None else job.get_status(refresh=False)
        if status != "finished":
            return {}
        out[job_id] = f"{n} messages; job {status}, returned {job.return_value()}"
    return out


# --- the steps of a storm -------------------------------------------------------------------------

@dataclass
class _Followup:
    """The relay and the two RQ workers a storm runs with, and the Redis they share."""
    redis: object
    relay: subprocess.Popen
    workers: list[subprocess.Popen]

    @property
    def procs(self) -> tuple[subprocess.Popen, ...]:
        return (self.relay, *self.workers)


def _start_followup(env: BenchEnv, procs: Procs, bg) -> _Followup:
    """Set-up: empty our Redis db, mark it with the sentinel, start `gridsnap relay` and two
    `gridsnap worker` and wait until both workers are registered; raises ProcessFailed if a
    child dies or they do not register within 60 s."""
    import redis
    from rq import Worker

    r = redis.Redis.from_url(env.redis_url)
    r.flushdb()  # db 5 is the benchmark's own
    # If this key vanishes, someone emptied our Redis db (a FLUSHALL elsewhere): queued jobs
    # were lost and only the relay's sweep (after 120 s) brings them back; the run is spoilt.
    r.set(SENTINEL, "1")
    child_env = env.child_env()
    gridsnap = str(VENV_BIN / "gridsnap")
    relay = procs.start("storm-relay", [gridsnap, "relay"], env=child_env, cwd=REPO_ROOT)
    workers = [procs.start(f"storm-worker-{i}", [gridsnap, "worker"], env=child_env,
                           cwd=REPO_ROOT) for i in (1, 2)]
    followup = _Followup(redis=r, relay=relay, workers=workers)
    deadline = time.monotonic() + 60
    while len(Worker.all(connection=r)) < 2:
        for p in followup.procs:
            procs.check_alive(p)
        if time.monotonic() > deadline:
            raise ProcessFailed("the RQ workers did not register within 60 s")
        time.sleep(0.2)
    for p in followup.procs:
        bg.add(p.pid)
    return followup


@dataclass
class _Watch:
    """What the storm's watch loop saw, on the perf_counter clock, and the CPU used by the
    process groups, the machine, this process and other processes at its marks."""
    groups: dict[str, int]  # name -> process group id
    cpu0: dict[int, float]
    busy0: tuple[float, float]
    own0: float
    others_start: object  # bg.start(): other processes' CPU counted from here
    t0: float = 0.0  # the threads started
    intake_end: float | None = None
    cpu_intake: dict[int, float] | None = None
    busy_intake: tuple[float, float] | None = None
    others_intake: float | None = None
    drained_at: float | None = None
    stalled: dict[str, str] = field(default_factory=dict)
    last_change: float = 0.0  # the outbox last moved
    redis_flushed: bool = False
    cpu1: dict[int, float] = field(default_factory=dict)
    busy1: tuple[float, float] = (0.0, 0.0)
    own1: float = 0.0
    others_after: float | None = None

    @classmethod
    def begin(cls, followup: _Followup, *, bg, api_pgid: int) -> _Watch:
        """The CPU marks the storm's figures are counted from."""
        groups = {"api (gunicorn)": api_pgid, "relay": followup.relay.pid,
                  "rq workers": followup.workers[0].pid, "rq worker 2": followup.workers[1].pid}
        cpu0, busy0 = group_cpu_s(set(groups.values())), machine_busy_s()
        return cls(groups=groups, cpu0=cpu0, busy0=busy0, own0=time.process_time(),
                   others_start=bg.start())


def _storm(w: _Watch, client: _Client, followup: _Followup, procs: Procs, db, outbox_sql: str,
           *, bg, n_reports: int, deadline_s: float, progress) -> None:
    """The storm: CONNECTIONS threads send the client's reports and photos while the outbox
    is watched every 0.25 s, until the follow-up has done every message the intake wrote,
    messages are stuck for good, or `deadline_s` has passed; what it sees goes into `w`.
    Raises ProcessFailed if the relay or a worker dies."""
    r = followup.redis
    pgids = set(w.groups.values())
    others_start = w.others_start
    threads = [threading.Thread(target=client.worker, daemon=True) for _ in range(CONNECTIONS)]
    w.t0 = time.perf_counter()
    for t in threads:
        t.start()
    last_open, w.last_change = None, time.perf_counter()
    last_print = 0.0
    hard_deadline = time.monotonic() + deadline_s
    while True:
        time.sleep(0.25)
        now = time.perf_counter()
        intake_done = not any(t.is_alive() for t in threads)
        if intake_done and w.intake_end is None:
            w.intake_end = client.last or now
            w.cpu_intake = group_cpu_s(pgids)
            w.busy_intake = machine_busy_s()
            w.others_intake = bg.cores(others_start)
            others_start = bg.start()
        total, open_, failed, retried, _later = db.execute(outbox_sql).fetchone()
        if not w.redis_flushed and not r.exists(SENTINEL):
            w.redis_flushed = True
            progress(f"    storm t={now - w.t0:5.1f}s  Redis db was emptied by another "
                     "process (FLUSHALL?): queued jobs are lost; this run is spoilt")
        ok_writes = sum(n for k, n in client.statuses.items() if k.split()[1] in ("201",))
        if intake_done and open_ == 0 and total >= ok_writes:
            w.drained_at = now
            break
        if (total, open_) != last_open:
            last_open, w.last_change = (total, open_), now
        elif intake_done and now - w.last_change > STALL_S:
            w.stalled = _stuck_jobs(db, r)
            if w.stalled:
                progress(f"    storm: {open_} messages stuck in flight: their {len(w.stalled)} "
                         "jobs finished without doing them")
                break
            w.last_change = now  # RQ still busy or a job may come back: keep waiting
        for p in followup.procs:
            procs.check_alive(p)
        if now - last_print > 5:
            last_print = now
            progress(f"    storm t={now - w.t0:5.1f}s  reports sent {client.done_reports}"
                     f"/{n_reports}  outbox {total} written, {open_} to do, {failed} failed")
        if time.monotonic() > hard_deadline:
            client.stop = True
            progress(f"    storm: deadline of {deadline_s:.0f} s reached; giving up")
            for t in threads:
                t.join(timeout=70)
            if w.intake_end is None:
                w.intake_end = client.last or time.perf_counter()
            break
    w.cpu1, w.busy1 = group_cpu_s(pgids), machine_busy_s()
    w.own1 = time.process_time()
    w.others_after = bg.cores(others_start)


@dataclass
class _Outcome:
    """What the database, the media directory and RQ hold after the storm."""
    total: int  # outbox messages due
    open_: int  # of those, not done nor failed
    failed: int
    retried: int
    later: int  # scheduled for later, not waited for
    last_done: dict[str, float]  # topic -> seconds from the storm's start to its last done
    n_rep: int
    routed: int
    n_pho: int
    processed: int
    missing: int  # derivative files named in the database but not on disk
    rq_failed: int
    rq_other_failed: dict[str, str]


def _measure(env: BenchEnv, db, outbox_sql: str, db_start, r) -> _Outcome:
    """Measurement: count what the follow-up did (outbox, routing, photos and their files,
    RQ's failed jobs)."""
    total, open_, failed, retried, later = db.execute(outbox_sql).fetchone()
    last_done = {topic: (last - db_start).total_seconds() for topic, last in db.execute(
        "SELECT topic, max(done_at) FROM outbox WHERE done_at IS NOT NULL GROUP BY topic")}
    n_rep, routed = db.execute(_routed_sql(db)).fetchone()
    rows = db.execute("SELECT thumb_key, display_key, processed_at FROM photos").fetchall()
    processed = sum(1 for t, d, p in rows if t and d and p)
    missing = sum(1 for t, d, _ in rows for key in (t, d)
                  if key and not (env.media_dir / key).is_file())
    rq_failed, rq_other_failed = _failed_jobs(r)
    return _Outcome(total=total, open_=open_, failed=failed, retried=retried, later=later,
                    last_done=last_done, n_rep=n_rep, routed=routed, n_pho=len(rows),
                    processed=processed, missing=missing, rq_failed=rq_failed,
                    rq_other_failed=rq_other_failed)


def _cpu(w: _Watch) -> dict[str, float]:
    """CPU seconds by who used them, during and after the intake."""
    cpu: dict[str, float] = {}
    if w.cpu_intake is not None:
        cpu["machine busy during intake, core-s"] = w.busy_intake[0] - w.busy0[0]
        cpu["machine busy after intake, core-s"] = w.busy1[0] - w.busy_intake[0]
    names = {v: k for k, v in w.groups.items()}
    for pgid, secs in w.cpu1.items():
        name = names[pgid]
        key = "rq workers" if name.startswith("rq worker") else name
        cpu[f"{key} CPU, s"] = cpu.get(f"{key} CPU, s", 0.0) + secs - w.cpu0[pgid]
    cpu["bench client (threads + polling) CPU, s"] = w.own1 - w.own0
    if w.others_intake is not None:
        cpu["other processes during intake, cores"] = w.others_intake
        cpu["other processes after intake, cores"] = w.others_after
    return cpu


def _failures(w: _Watch, o: _Outcome, bad: dict[str, int], *, n_reports: int, n_photos: int,
              deadline_s: float) -> list[str]:
    """Report: every way the storm fell short, in words; [] for a good run."""
    failures = []
    if w.redis_flushed:
        failures.append("another process emptied the benchmark's Redis db during the storm "
                        "(a FLUSHALL; tests/test_followup_queue.py does one): queued jobs were "
                        "lost and re-sent by the relay's sweep, so the drain time is not valid")
    if bad:
        failures.append(f"client saw non-201 answers: {bad}")
    if o.n_rep != n_reports:
        failures.append(f"{o.n_rep} reports stored, not {n_reports}")
    if o.n_pho != n_photos:
        failures.append(f"{o.n_pho} photos stored, not {n_photos}")
    if w.stalled:
        job_id, what = next(iter(w.stalled.items()))
        failures.append(
            f"{o.open_} outbox messages ({o.open_ / max(o.total, 1):.1%}) stuck in flight for "
            f"good: each of their {len(w.stalled)} RQ jobs ran while the relay still held the "
            "rows locked (the relay enqueues before it commits; the job's FOR UPDATE SKIP "
            f"LOCKED skips them), did nothing and finished, e.g. {job_id}: {what}; the relay's "
            "sweep re-sends only jobs that are gone or failed. The drain time is when the last "
            "other message was done")
    elif w.drained_at is None:
        failures.append(f"the follow-up did not finish within {deadline_s:.0f} s "
                        f"({o.open_} left)")
    if o.failed:
        failures.append(f"{o.failed} outbox messages failed for good")
    if o.rq_failed:
        failures.append(f"{o.rq_failed} outbox jobs in RQ's failed registry")
    if o.routed != n_reports:
        failures.append(f"{o.routed} of {n_reports} reports routed")
    if o.processed != n_photos:
        failures.append(f"{o.processed} of {n_photos} photos processed")
    if o.missing:
        failures.append(f"{o.missing} derivative files missing")
    return failures


def run_storm(env: BenchEnv, procs: Procs, *, bg, api_pgid: int, port: int, token: str, grid: Grid,
              n_reports: int, n_photos: int, photos: PhotoSet, deadline_s: float,
              progress=print) -> StormResult:
    """Start the relay and two workers, send the storm, wait for the follow-up to finish."""
    followup = _start_followup(env, procs, bg)
    client = _Client(port, token, grid, n_reports, n_photos, photos)
    w = _Watch.begin(followup, bg=bg, api_pgid=api_pgid)
    db = database.connect(env)
    outbox_sql = _outbox_sql(db)
    db_start = db.execute("SELECT clock_timestamp()").fetchone()[0]
    try:
        _storm(w, client, followup, procs, db, outbox_sql, bg=bg, n_reports=n_reports,
               deadline_s=deadline_s, progress=progress)
    finally:
        for p in followup.procs:
            procs.stop(p)

    first = client.first or w.t0
    intake_s = (w.intake_end or time.perf_counter()) - first
    drain_s = None if w.drained_at is None else w.drained_at - first
    if w.stalled:  # the time the last message that did get done was done
        drain_s = w.last_change - first
    o = _measure(env, db, outbox_sql, db_start, followup.redis)
    db.close()
    bad = {k: n for k, n in client.statuses.items() if k.split()[1] not in ("201",)}
    return StormResult(
        reports=n_reports, photos=n_photos, photo_mean_bytes=photos.mean_size,
        intake_s=intake_s, reports_per_s=client.done_reports / intake_s,
        photos_per_s=len(client.photo_lat) / intake_s,
        report_p50_ms=_pct(client.report_lat, 50) * 1000,
        report_p99_ms=_pct(client.report_lat, 99) * 1000,
        photo_p50_ms=_pct(client.photo_lat, 50) * 1000,
        photo_p99_ms=_pct(client.photo_lat, 99) * 1000,
        client_errors=bad, drained=w.drained_at is not None, drain_s=drain_s,
        drain_over_intake=None if drain_s is None else drain_s / intake_s,
        outbox_total=o.total, outbox_failed=o.failed, outbox_retried=o.retried,
        rq_failed_jobs=o.rq_failed, rq_other_failed=o.rq_other_failed, scheduled_later=o.later,
        routed=o.routed, photos_processed=o.processed,
        derivative_files_missing=o.missing, last_done_by_topic_s=o.last_done,
        redis_flushed=w.redis_flushed, stuck_messages=o.open_ if w.stalled else 0,
        stuck_jobs=w.stalled, cpu_s=_cpu(w),
        failures=_failures(w, o, bad, n_reports=n_reports, n_photos=n_photos,
                           deadline_s=deadline_s))
