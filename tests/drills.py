"""What the fault drills share (tests/test_fault_drills.py, tests/test_lifecycle_drills.py):
the scale, the figures of a drill (one row of docs/reliability.md) and the clients — phones that
PUT reports with a photo each, retrying on 503 and on dropped connections as the PWA does.

A drill's object (`drill` below) gives: port, token(), healthy(), followup_done(), scalar(sql)
and diagnosis().
"""

from __future__ import annotations

import http.client
import json
import os
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from live_stack import request, wait_until
from photo_samples import make_jpeg

SCALE = float(os.environ.get("DRILL_SCALE", "1"))
RECOVERY_S = 120  # a drill fails if the stack is not whole again within this


def n_scaled(count: int) -> int:
    return max(4, int(count * SCALE))


@dataclass
class Figures:
    """What a drill saw; one row of docs/reliability.md."""

    drill: str
    sent: int = 0
    acknowledged: int = 0
    photos_acknowledged: int = 0
    statuses: Counter = field(default_factory=Counter)
    stored: int = 0
    photos_stored: int = 0
    followup_done: str = ""
    recovery_s: float | None = None
    service_back_s: float | None = None
    stopped_s: float | None = None
    bad: list = field(default_factory=list)

    def row(self) -> dict:
        return {"drill": self.drill, "sent": self.sent, "acknowledged": self.acknowledged,
                "photos_acknowledged": self.photos_acknowledged, "stored": self.stored,
                "photos_stored": self.photos_stored, "followup_done": self.followup_done,
                "lost": self.acknowledged - self.stored
                + self.photos_acknowledged - self.photos_stored,
                "5xx_other_than_503": sum(n for s, n in self.statuses.items()
                                          if s >= 500 and s != 503),
                "503": self.statuses.get(503, 0), "recovery_s": _round(self.recovery_s),
                "service_back_s": _round(self.service_back_s),
                "stopped_s": _round(self.stopped_s)}


def _round(seconds: float | None) -> float | str:
    return "—" if seconds is None else round(seconds, 1)


class Client:
    """A phone: PUTs reports with a photo each, retrying on 503 and dropped connections, as
    the PWA's outbox does; remembers what was acknowledged and every status it saw."""

    def __init__(self, port: int, token: str, cell: dict, figures: Figures, photos: bool):
        self.port, self.token, self.cell, self.fig, self.photos = port, token, cell, figures, photos
        self.lock = threading.Lock()

    def _put(self, path: str, body, content_type: str, deadline: float) -> dict:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": content_type}
        pause = 0.05
        while True:
            try:
                status, hdrs, raw = request(self.port, "PUT", path, body, headers, timeout=30)
            except (OSError, ValueError, http.client.HTTPException):  # cut, reset, torn answer
                status = None
            if status is not None:
                with self.lock:
                    self.fig.statuses[status] += 1
                    if not hdrs.get("content-type", "").startswith("application/json"):
                        self.fig.bad.append((status, raw[:200]))
                if status in (200, 201):
                    return json.loads(raw)
                if status != 503:
                    with self.lock:
                        self.fig.bad.append((status, raw[:200]))
                    raise AssertionError(f"{path}: {status} {raw[:200]!r}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{path}: no answer before the deadline")
            time.sleep(pause)  # the client's back-off before a retry (not a test's wait)
            pause = min(pause * 2, 1.0)

    def push(self, n: int, seed: int) -> None:
        deadline = time.monotonic() + RECOVERY_S
        rng = random.Random(seed)
        for i in range(n):
            rid = str(uuid.uuid4())
            body = json.dumps({
                "category": "E0101", "description": f"drill {seed}-{i}",
                "location": {"lon": self.cell["lon"] + rng.uniform(-1e-5, 1e-5),
                             "lat": self.cell["lat"], "accuracy_m": 5},
                "captured_at": datetime(2026, 11, 23, 9, 30, tzinfo=UTC).isoformat()}).encode()
            with self.lock:
                self.fig.sent += 1
            self._put(f"/api/v1/reports/{rid}", body, "application/json", deadline)
            with self.lock:
                self.fig.acknowledged += 1
            if self.photos:
                self._put(f"/api/v1/reports/{rid}/photos/{uuid.uuid4()}",
                          make_jpeg(320, 240, seed=seed * 10_000 + i), "image/jpeg", deadline)
                with self.lock:
                    self.fig.photos_acknowledged += 1


def start_clients(drill, cell, figures, count: int, per_client: int, photos: bool,
             port: int | None = None):
    """`count` clients pushing `per_client` reports each, in threads; (threads, errors)."""
    token = drill.token()
    errors: list = []

    def run(k):
        try:
            Client(port or drill.port, token, cell, figures, photos).push(per_client, seed=k)
        except AssertionError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(count)]
    for t in threads:
        t.start()
    return threads, errors


def finish(drill, figures: Figures, clients, fault_over: float) -> None:
    threads, errors = clients
    for t in threads:
        t.join(RECOVERY_S)
    assert not errors, (errors[:3], figures.bad[:3])
    try:
        wait_until(lambda: drill.healthy() and drill.followup_done(), RECOVERY_S,
                   "all the follow-up to be done")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; {drill.diagnosis()}") from None
    figures.recovery_s = time.monotonic() - fault_over
    figures.stored = drill.scalar("SELECT count(*) FROM reports")
    figures.photos_stored = drill.scalar("SELECT count(*) FROM photos")
    figures.followup_done = "all"
    record(figures)
    assert not figures.bad, figures.bad[:3]
    assert figures.stored == figures.acknowledged == figures.sent
    assert figures.photos_stored == figures.photos_acknowledged
    assert set(figures.statuses) <= {200, 201, 503}, figures.statuses


def record(figures: Figures) -> None:
    out = os.environ.get("GRIDSNAP_RELIABILITY_OUT")
    if out:
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps(figures.row()) + "\n")


