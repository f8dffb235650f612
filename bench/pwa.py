"""The field worker's PWA, measured in Debian's Chromium (Playwright) against a real server.

    run(quick) -> rows {name, value, unit, note}

- the app shell's transferred size: every file the service worker precaches, gzip-compressed
  (level 6, what a reverse proxy sends), and the part the capture screen needs at first paint;
- the time to the capture screen offline: after a first visit, reload with no network until
  the capture screen is on screen (median of 5; 3 when quick);
- the time for the browser to sync 100 queued reports (20 when quick) with one 300 KB photo each
  over loopback: IndexedDB outbox → PUT report → the photo (by tus: it is over 256 KB), one at a
  time, as on a phone;
- the same sync of 100 more reports (10 when quick) over an emulated 3G link: Chromium's network
  conditions through CDP on the page (750 kbit/s up, 1.6 Mbit/s down, 300 ms latency); every
  request of the round is the page's (the service worker's, which CDP on the page would not
  throttle, are counted in the note and should be none). Bounded: 15 minutes at most.

Own database `gridsnap_bench_pwa` (dropped and made anew), gunicorn with 2 sync workers on a
free port, the project-local PostgreSQL; stops everything it started.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import database
from .env import DEMO_WORKER, REPO_ROOT, BenchEnv
from .procs import Procs, gunicorn

PWA = REPO_ROOT / "pwa"
DIST = PWA / "dist"
DB_NAME = "gridsnap_bench_pwa"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", "--disable-extensions"]
WORKER = DEMO_WORKER
PHOTO_BYTES = 300 * 1024
# the emulated 3G link: bytes/s up and down, and the latency Chromium adds to each request
LINK_3G = {"up_kbit": 750, "down_kbit": 1600, "latency_ms": 300}
SYNC_3G_TIMEOUT_S = 15 * 60


def _newest(path: Path) -> float:
    return max((p.stat().st_mtime for p in path.rglob("*") if p.is_file()), default=0.0)


def build() -> None:
    """npm run build when pwa/dist is missing or older than its sources."""
    index = DIST / "index.html"
    if index.exists() and index.stat().st_mtime >= max(_newest(PWA / "src"), _newest(PWA / "public")):
        return
    npm = shutil.which("npm") or "npm"
    if not (PWA / "node_modules" / ".package-lock.json").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=PWA, check=True)
    subprocess.run([npm, "run", "build"], cwd=PWA, check=True, stdout=subprocess.DEVNULL)


def precached_files() -> list[str]:
    """The URLs in the service worker's precache manifest (and sw.js itself)."""
    sw = (DIST / "sw.js").read_text(encoding="utf-8")
    # the manifest's entries only: {"revision":…,"url":"…"} (tus-js-client's code has url: too)
    urls = sorted(set(re.findall(r'"revision":(?:null|"[0-9a-f]+"),"url":"([^"]+)"', sw)))
    return [*urls, "sw.js"]


def shell_sizes() -> list[dict]:
    files = precached_files()
    raw = gz = first_raw = first_gz = 0
    index = (DIST / "index.html").read_text(encoding="utf-8")
    first = {"index.html", "sw.js", "manifest.webmanifest"} | {
        m.lstrip("/") for m in re.findall(r'(?:src|href)="(/assets/[^"]+)"', index)}
    for name in files:
        data = (DIST / name).read_bytes()
        size_gz = len(gzip.compress(data, compresslevel=6))
        raw += len(data)
        gz += size_gz
        if name in first:
            first_raw += len(data)
            first_gz += size_gz
    return [
        {"name": "pwa_shell_gzip", "value": round(gz / 1024, 1), "unit": "KiB",
         "note": f"{len(files)} precached files incl. sw.js; {raw / 1024:.0f} KiB uncompressed"},
        {"name": "pwa_first_paint_gzip", "value": round(first_gz / 1024, 1), "unit": "KiB",
         "note": f"index.html, its JS and CSS, manifest and sw.js ({first_raw / 1024:.0f} KiB raw); "
                 "the map (Leaflet) loads when opened"},
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _recreate(env: BenchEnv) -> tuple[float, float]:
    """Drop and make gridsnap_bench_pwa with the demo city; returns a point in the worker's cell."""
    import psycopg

    database.recreate(env)
    with psycopg.connect(env.database_url) as conn:
        return conn.execute("""
            SELECT ST_X(ST_PointOnSurface(a.boundary)), ST_Y(ST_PointOnSurface(a.boundary))
              FROM areas a, users u WHERE u.username = %s AND a.level = 'cell'
               AND a.code LIKE u.scopes[1] || '%%' ORDER BY a.code LIMIT 1""",
            (WORKER[0],)).fetchone()


def _count(url: str) -> tuple[int, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        return (conn.execute("SELECT count(*) FROM reports").fetchone()[0],
                conn.execute("SELECT count(*) FROM photos").fetchone()[0])


def _photo() -> bytes:
    """A ~300 KB JPEG of a phone-like scene (noise over gradients)."""
    import random

    from PIL import Image

    rnd = random.Random(4)
    w, h = 1600, 1200
    img = Image.linear_gradient("L").resize((w, h)).convert("RGB")
    noise = Image.frombytes("RGB", (w, h), bytes(rnd.getrandbits(8) for _ in range(w * h * 3)))
    img = Image.blend(img, noise, 0.16)
    best = b""
    for q in range(95, 30, -5):  # the quality whose size comes closest to PHOTO_BYTES
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=q)
        if abs(buf.tell() - PHOTO_BYTES) < abs(len(best) - PHOTO_BYTES):
            best = buf.getvalue()
    return best


_WAIT_IDB = """async ([store, want]) => {
    const db = await new Promise((ok, no) => { const r = indexedDB.open('gridsnap');
        r.onsuccess = () => ok(r.result); r.onerror = no; });
    const all = await new Promise((ok) => { const q = db.transaction(store).objectStore(store)
        .getAll(); q.onsuccess = () => ok(q.result); });
    db.close();
    return all.length;
}"""

# The outbox items as the app writes them (src/lib/outbox.js addItem): report + photo blobs.
_QUEUE = """async ({n, b64, user, lon, lat}) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const db = await new Promise((ok, no) => { const r = indexedDB.open('gridsnap');
        r.onsuccess = () => ok(r.result); r.onerror = no; });
    const tx = db.transaction(['outbox', 'blobs'], 'readwrite');
    const now = Date.now();
    for (let i = 0; i < n; i++) {
        // each photo its own bytes (a counter after the JPEG's end), as photos of a day would be
        const tail = new TextEncoder().encode(`bench-${i}-${now}`);
        const blob = new Blob([bytes, tail], { type: 'image/jpeg' });
        const photoId = crypto.randomUUID();
        tx.objectStore('blobs').put(blob, photoId);
        tx.objectStore('outbox').put({ id: crypto.randomUUID(), kind: 'report', user,
            createdAt: now + i, updatedAt: now + i, state: 'saved',
            body: { category: 'E0101', description: `bench ${i}`,
                    location: { lon: lon + i * 1e-6, lat, accuracy_m: 8, source: 'gps' },
                    captured_at: new Date(now + i).toISOString() },
            photos: [{ id: photoId, size: blob.size, width: 1600, height: 1200, type: 'image/jpeg',
                       sent: false }] });
    }
    await new Promise((ok, no) => { tx.oncomplete = ok; tx.onerror = no; });
    db.close();
    return n;
}"""

_ACCEPTED = """async () => {
    const db = await new Promise((ok, no) => { const r = indexedDB.open('gridsnap');
        r.onsuccess = () => ok(r.result); r.onerror = no; });
    const all = await new Promise((ok) => { const q = db.transaction('outbox').objectStore('outbox')
        .getAll(); q.onsuccess = () => ok(q.result); });
    db.close();
    return [all.filter((x) => x.state === 'accepted').length,
            all.filter((x) => x.state === 'rejected').length];
}"""


def _poll(page, script, arg=None, timeout_s=60.0, ok=bool):
    deadline = time.monotonic() + timeout_s
    while True:
        value = page.evaluate(script, arg)
        if ok(value):
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out: last value {value!r}")
        page.wait_for_timeout(50)


def _browser_rows(base_url: str, db_url: str, point: tuple[float, float], quick: bool) -> list[dict]:
    from playwright.sync_api import sync_playwright

    rows: list[dict] = []
    loads = 3 if quick else 5
    n_reports = 20 if quick else 100
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            ctx = browser.new_context(
                viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True,
                locale="zh-CN", base_url=base_url, permissions=["geolocation"],
                geolocation={"latitude": point[1], "longitude": point[0], "accuracy": 8})
            page = ctx.new_page()
            page.goto("/")
            page.fill("#username", WORKER[0])
            page.fill("#password", WORKER[1])
            page.click("button[type=submit]")
            page.wait_for_selector("nav.tabbar")
            _poll(page, _WAIT_IDB, ["cells", 1], ok=lambda v: v > 0)
            _poll(page, """async () => { const r = await navigator.serviceWorker.getRegistration();
                return !!(r && r.active && r.active.state === 'activated'); }""")

            # time to the capture screen, offline
            ctx.set_offline(True)
            times = []
            for _ in range(loads):
                t0 = time.perf_counter()
                page.reload(wait_until="commit")
                page.wait_for_selector("[data-testid=save-report]", state="visible")
                times.append((time.perf_counter() - t0) * 1000)
            rows.append({"name": "pwa_offline_capture_screen", "value": round(statistics.median(times)),
                         "unit": "ms", "note": f"reload with no network until the capture screen shows; "
                         f"median of {loads} ({min(times):.0f}–{max(times):.0f} ms)"})

            # sync a queued outbox
            photo = _photo()
            page.evaluate(_QUEUE, {"n": n_reports, "b64": base64.b64encode(photo).decode(),
                                   "user": WORKER[0], "lon": point[0], "lat": point[1]})
            page.reload()
            page.wait_for_selector("nav.tabbar")
            t0 = time.perf_counter()
            ctx.set_offline(False)  # the 'online' event starts the sync
            accepted, rejected = _poll(page, _ACCEPTED, timeout_s=600,
                                       ok=lambda v: v[0] + v[1] >= n_reports)
            elapsed = time.perf_counter() - t0
            reports, photos = _count(db_url)
            mb = n_reports * len(photo) / 1e6
            rows.append({"name": f"pwa_sync_{n_reports}_reports", "value": round(elapsed, 2),
                         "unit": "s", "note": f"{n_reports} reports with one {len(photo) // 1024} KB photo each "
                         f"from IndexedDB over loopback, one request at a time: {n_reports / elapsed:.1f} "
                         f"reports/s, {mb / elapsed:.1f} MB/s; server has {reports} reports, "
                         f"{photos} photos; {rejected} rejected"})
            rows.append(_sync_over_3g(ctx, page, db_url, photo, point, 10 if quick else 100))
            ctx.close()
        finally:
            browser.close()
    return rows


def _sync_over_3g(ctx, page, db_url: str, photo: bytes, point, n_reports: int) -> dict:
    """n more reports queued offline, then sent over the emulated 3G link from the 'online'
    event until the outbox has every one accepted (or refused)."""
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    # offline through the same CDP session (Playwright's set_offline sends its own conditions,
    # which would undo the throttling)
    cdp.send("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    page.wait_for_function("!navigator.onLine")
    before = page.evaluate(_ACCEPTED)
    reports0, photos0 = _count(db_url)
    page.evaluate(_QUEUE, {"n": n_reports, "b64": base64.b64encode(photo).decode(),
                           "user": WORKER[0], "lon": point[0], "lat": point[1]})
    seen = {"page": 0, "worker": 0, "up": 0}

    def on_request(req):
        if "/api/v1/reports" in req.url or "/api/v1/uploads" in req.url:
            seen["worker" if req.service_worker else "page"] += 1
            seen["up"] += len(req.post_data_buffer or b"")

    ctx.on("request", on_request)
    t0 = time.perf_counter()
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": LINK_3G["latency_ms"],
        "downloadThroughput": LINK_3G["down_kbit"] * 1000 // 8,
        "uploadThroughput": LINK_3G["up_kbit"] * 1000 // 8})  # the 'online' event starts the sync
    accepted, rejected = _poll(page, _ACCEPTED, timeout_s=SYNC_3G_TIMEOUT_S,
                               ok=lambda v: v[0] + v[1] >= before[0] + before[1] + n_reports)
    elapsed = time.perf_counter() - t0
    ctx.remove_listener("request", on_request)
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    reports, photos = _count(db_url)
    mb = n_reports * len(photo) / 1e6
    floor = mb * 1e6 * 8 / (LINK_3G["up_kbit"] * 1000)
    return {"name": f"pwa_sync_{n_reports}_reports_3g", "value": round(elapsed, 1), "unit": "s",
            "note": f"{n_reports} reports with one {len(photo) // 1024} KB photo each (by tus) from "
                    f"IndexedDB over emulated 3G ({LINK_3G['up_kbit']} kbit/s up, "
                    f"{LINK_3G['down_kbit'] / 1000:g} Mbit/s down, {LINK_3G['latency_ms']} ms "
                    f"latency, Chromium network conditions via CDP): {elapsed / n_reports:.2f} s "
                    f"a report; the photo bytes alone need {floor:.0f} s at that uplink "
                    f"({floor / elapsed:.0%} of the time); {seen['page']} API requests from the "
                    f"page, {seen['worker']} from the service worker; server has "
                    f"{reports - reports0} more reports, {photos - photos0} more photos; "
                    f"{rejected - before[1]} rejected"}


def run(quick: bool) -> list[dict]:
    """The PWA's figures: shell size, time to the capture screen offline, outbox sync time."""
    build()
    rows = shell_sizes()
    if not Path(CHROMIUM).exists():
        rows.append({"name": "pwa_browser", "value": 0, "unit": "", "note": f"{CHROMIUM} missing: "
                     "browser figures not measured (apt-get install chromium)"})
        return rows
    with tempfile.TemporaryDirectory(prefix="gridsnap-bench-pwa-") as tmp:
        env = BenchEnv.make(Path(tmp) / "media", db=DB_NAME)
        point = _recreate(env)
        port = _free_port()
        child = env.child_env(GRIDSNAP_PWA_DIST=str(DIST))
        with Procs(Path(tmp)) as procs:
            gunicorn(procs, "pwa-api", "gridsnap.wsgi:app", port, 2, child, "/api/v1/health",
                     extra_args=("--access-logfile", "/dev/null"))
            rows += _browser_rows(f"http://127.0.0.1:{port}", env.database_url, point, quick)
    return rows


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    for row in run(quick):
        print(json.dumps(row, ensure_ascii=False))
