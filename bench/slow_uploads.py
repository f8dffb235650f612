"""Slow phones and intake: photos sent by tus at 2G speed (10 KB/s each, in the PWA's bounded
chunks) while wrk sends reports, through nginx as `make run` has it (2 sync workers).

Intake is measured alone, then with the slow uploads running from before wrk starts until after
it stops, then alone again (the baseline is the mean of the two: the machine may be shared);
every slow upload must then be complete (its photo stored). Targets (the slow-phones
issue): throughput with the uploads within 20 % of the run without them, p99 under 1 s, every
upload complete.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import io
import json
import random
import shutil
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from . import database, loadgen
from . import grid as gridmod
from .cpu import Background, group_cpu_s
from .env import DEMO_WORKER, REPO_ROOT, BenchEnv
from .procs import Procs, free_ports, gunicorn, login, nginx

DB_NAME = "gridsnap_bench_slow"
REDIS_DB = 7
PORTS = range(18020, 18031)
RATE = 10 * 1024  # bytes a second, per phone
CHUNK = 64 * 1024  # the PWA's first chunk; at 10 KB/s it stays near this


def say(msg: str) -> None:
    print(msg, flush=True)


def _photo(target_bytes: int, seed: int) -> bytes:
    """A JPEG of about target_bytes (noise compresses badly, so its size is predictable)."""
    from PIL import Image

    rng = random.Random(seed)
    side = 64
    while True:
        img = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
        out = io.BytesIO()
        img.save(out, "JPEG", quality=90)
        if out.tell() >= target_bytes:
            return out.getvalue()
        side = int(side * 1.25)


class SlowPhone(threading.Thread):
    """One phone: a report, then its photo by tus in CHUNK-sized PATCHes paced at RATE."""

    def __init__(self, port: int, token: str, cell: dict, size: int, seed: int):
        super().__init__(daemon=True)
        self.port, self.token, self.cell = port, token, cell
        self.data = _photo(size, seed)
        self.photo_id = str(uuid.uuid4())
        self.statuses: list[int] = []
        self.html = 0
        self.done = False
        self.seconds = 0.0
        self.started = threading.Event()

    def _req(self, method: str, path: str, body: bytes = b"", headers: dict | None = None,
             conn: http.client.HTTPConnection | None = None):
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.request(method, path, body=body, headers={
                "Authorization": f"Bearer {self.token}", **(headers or {})})
            resp = conn.getresponse()
            data = resp.read()
        finally:
            if own:
                conn.close()
        self._count(resp)
        return resp, data

    def _count(self, resp) -> None:
        self.statuses.append(resp.status)
        # an error page in HTML (gunicorn's own 500, say) instead of the API's JSON
        if resp.status >= 400 and "html" in (resp.getheader("Content-Type") or ""):
            self.html += 1

    def _paced_patch(self, url: str, offset: int, body: bytes):
        """One PATCH whose body goes out at RATE (the phone's link), on a connection of its own."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.putrequest("PATCH", url)
            for k, v in {"Authorization": f"Bearer {self.token}", "Tus-Resumable": "1.0.0",
                         "Content-Type": "application/offset+octet-stream",
                         "Upload-Offset": str(offset),
                         "Content-Length": str(len(body))}.items():
                conn.putheader(k, v)
            conn.endheaders()
            self.started.set()
            step = RATE // 10
            for i in range(0, len(body), step):
                conn.send(body[i:i + step])
                time.sleep(0.1)  # the link's pace
            resp = conn.getresponse()
            resp.read()
        finally:
            conn.close()
        self._count(resp)
        return resp

    def run(self) -> None:
        t = time.monotonic()
        with contextlib.suppress(Exception):
            rid = str(uuid.uuid4())
            self._req("PUT", f"/api/v1/reports/{rid}", json.dumps({
                "category": "E0101", "description": "slow phone",
                "location": {"lon": self.cell["lon"], "lat": self.cell["lat"], "accuracy_m": 5},
                "captured_at": datetime.now(UTC).isoformat()}).encode(),
                {"Content-Type": "application/json"})
            meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in {
                "report_id": rid, "photo_id": self.photo_id, "purpose": "report",
                "content_type": "image/jpeg"}.items())
            resp, _ = self._req("POST", "/api/v1/uploads/", headers={
                "Tus-Resumable": "1.0.0", "Upload-Length": str(len(self.data)),
                "Upload-Metadata": meta})
            url = resp.getheader("Location")
            offset = 0
            while offset < len(self.data):
                resp = self._paced_patch(url, offset, self.data[offset:offset + CHUNK])
                if resp.status != 204:
                    return
                offset = int(resp.getheader("Upload-Offset"))
            self.done = True
        self.seconds = time.monotonic() - t
        self.started.set()


def run(quick: bool) -> list[dict]:
    if shutil.which("wrk") is None:
        raise RuntimeError("`wrk` is not installed (apt-get install wrk; `make bench` does)")
    phones, seconds, size = (8, 8, 100 * 1024) if quick else (50, 20, 300 * 1024)
    media = Path(tempfile.mkdtemp(prefix="gridsnap-bench-slow-"))
    log_dir = REPO_ROOT / "bench" / "out" / (
        "slow-uploads-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"))
    log_dir.mkdir(parents=True, exist_ok=True)
    env = BenchEnv.make(media, db=DB_NAME, redis_db=REDIS_DB)
    database.recreate(env)
    conn = database.connect(env)
    grid = gridmod.GRID_1K
    gridmod.install(conn, grid, others=[])
    cell = conn.execute("""
        SELECT ST_X(ST_PointOnSurface(a.boundary)) AS lon, ST_Y(ST_PointOnSurface(a.boundary))
          FROM areas a, users u
         WHERE u.username = %s AND a.level = 'cell' AND a.code LIKE u.scopes[1] || '%%'
         LIMIT 1""", (DEMO_WORKER[0],)).fetchone()
    cell = {"lon": cell[0], "lat": cell[1]}
    api_port, front_port = free_ports(2, PORTS)
    bg = Background(DB_NAME)
    with Procs(log_dir) as procs:
        api = gunicorn(procs, "api", "gridsnap.wsgi:app", api_port, 2,
                       env.child_env(GRIDSNAP_TRUSTED_PROXIES="1"), "/api/v1/health",
                       extra_args=("--timeout", "60"))
        front = nginx(procs, "nginx", log_dir / "nginx", front_port, api_port,
                      env.settings().max_body_bytes)
        for pgid in (api.pid, front.pid):
            bg.add(pgid)
        token = login(front_port, DEMO_WORKER)
        loadgen.run_wrk(front_port, grid, token=token, seconds=3)  # warm-up, not counted

        def measured(what: str):
            """A wrk run, with the API's CPU µs per report and the cores others kept busy."""
            say(f"slow uploads: {what} for {seconds} s …")
            watch, cpu0 = bg.start(), group_cpu_s({api.pid})[api.pid]
            r = loadgen.run_wrk(front_port, grid, token=token, seconds=seconds,
                                log=log_dir / "wrk.log")
            api_us = (group_cpu_s({api.pid})[api.pid] - cpu0) / max(r.requests, 1) * 1e6
            others = bg.cores(watch)
            say(f"  {r.rps:,.0f} reports/s, p99 {r.p99_ms:.0f} ms, API {api_us:,.0f} µs CPU "
                f"a report; other processes kept {others:.1f} cores busy")
            return r, api_us, others

        alone, alone_us, alone_bg = measured("intake alone")
        slow = [SlowPhone(front_port, token, cell, size, seed=k) for k in range(phones)]
        for p in slow:
            p.start()
        for p in slow:
            p.started.wait(60)
        during, during_us, during_bg = measured(
            f"{phones} photos of {size // 1024} KB at {RATE // 1024} KB/s each, and intake")
        running = sum(p.is_alive() for p in slow)
        say(f"  {running} uploads still running when wrk stopped")
        for p in slow:
            p.join(600)
        after, after_us, after_bg = measured("intake alone again")
    stored = conn.execute("SELECT count(*) FROM photos").fetchone()[0]
    conn.close()
    complete = sum(p.done for p in slow)
    bad = sum(s >= 500 for p in slow for s in p.statuses) + sum(p.html for p in slow)
    # the runs alone before and after: the machine is shared, one run alone is noisy
    base = (alone.rps + after.rps) / 2
    ratio = during.rps / base if base else 0.0
    upload_s = sorted(p.seconds for p in slow if p.done)
    return [
        {"name": "intake alone (wrk -c16, through nginx), before and after", "value": base,
         "unit": "reports/s",
         "note": f"{alone.rps:,.0f} and {after.rps:,.0f}/s; p99 {alone.p99_ms:.0f} and "
                 f"{after.p99_ms:.0f} ms; non-2xx {alone.non_2xx + after.non_2xx}; API "
                 f"{alone_us:,.0f} and {after_us:,.0f} µs CPU a report; other processes kept "
                 f"{alone_bg:.1f} and {after_bg:.1f} cores busy"},
        {"name": f"intake with {phones} uploads at {RATE // 1024} KB/s running",
         "value": during.rps, "unit": "reports/s",
         "note": f"non-2xx {during.non_2xx}; {running} uploads still running when wrk stopped; "
                 f"API {during_us:,.0f} µs CPU a report (the uploads' PATCHes included); "
                 f"other processes kept {during_bg:.1f} cores busy"},
        {"name": f"intake p99 with {phones} slow uploads running", "value": during.p99_ms,
         "unit": "ms", "target": "< 1000 ms", "ok": during.p99_ms < 1000 and not during.non_2xx,
         "note": ""},
        {"name": f"intake with / without {phones} slow uploads", "value": ratio * 100,
         "unit": "%", "target": "≥ 80 %", "ok": ratio >= 0.8, "note": ""},
        {"name": f"slow uploads complete, no 5xx or HTML ({phones} at {RATE // 1024} KB/s)",
         "value": complete, "unit": f"of {phones}", "target": "all",
         "ok": complete == phones == stored and not bad,
         "note": f"{stored} photos stored; 5xx or HTML answers: {bad}; each took "
                 f"{upload_s[0]:.0f}–{upload_s[-1]:.0f} s" if upload_s else "none complete"},
    ]
