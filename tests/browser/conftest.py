"""Real-browser tests of the field worker's PWA: Debian's Chromium driven by Playwright.

The real backend serves the built app and the API on a free port (werkzeug in a thread, with
the test settings), so the browser, the service worker, IndexedDB and the API are the ones a
phone would meet. The follow-up (relay + RQ worker) is run on demand with followup.drain.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from gridsnap.app import create_app

from conftest import PERSONAS, REPO

PWA = REPO / "pwa"
DIST = PWA / "dist"
CHROMIUM = os.environ.get("GRIDSNAP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", "--disable-extensions"]
PHONE = {"width": 360, "height": 640}
SHOTS = REPO / "docs" / "screenshots"


def _newest(path: Path) -> float:
    return max((p.stat().st_mtime for p in path.rglob("*") if p.is_file()), default=0.0)


def build_pwa() -> Path:
    """pwa/dist, built with npm when missing or older than its sources (make pwa does the same)."""
    index = DIST / "index.html"
    sources = max(_newest(PWA / "src"), _newest(PWA / "public"),
                  *((PWA / f).stat().st_mtime for f in ("index.html", "vite.config.js",
                                                         "package-lock.json")))
    if index.exists() and index.stat().st_mtime >= sources:
        return DIST
    npm = shutil.which("npm")
    if npm is None:  # a failure, not a skip: a run without the browser tests must not look green
        pytest.fail("npm is missing: cannot build pwa/ (make test installs nodejs and npm)")
    if not (PWA / "node_modules" / ".package-lock.json").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=PWA, check=True)
    subprocess.run([npm, "run", "build"], cwd=PWA, check=True)
    return DIST


@pytest.fixture(scope="session")
def pwa_dist() -> Path:
    return build_pwa()


class LiveServer:
    """The gridsnap app on 127.0.0.1:<free port>, in a thread of this process."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture(scope="session")
def live_server(settings, runtime, pwa_dist):
    app = create_app(settings)
    app.extensions["gridsnap"] = runtime
    server = LiveServer(app).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright import sync_api  # a dependency in pyproject.toml: missing is an error

    if not Path(CHROMIUM).exists():  # a failure, not a skip, like npm above
        pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium; make test does it)")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture()
def phone(browser, live_server, demo_cell):
    """A fresh phone-sized browser context at the demo worker's cell, with location allowed."""
    ctx = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
        locale="zh-CN", timezone_id="Asia/Shanghai", base_url=live_server.url,
        permissions=["geolocation"],
        geolocation={"latitude": demo_cell["lat"], "longitude": demo_cell["lon"], "accuracy": 8},
        service_workers="allow",
    )
    ctx.set_default_timeout(15000)
    yield ctx
    ctx.close()


@pytest.fixture()
def worker_login(demo_users):
    name = PERSONAS["worker"]
    return name, demo_users[name]["password"]


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """Where the screen tests save their screenshots: docs/screenshots/ only under
    `make screenshots` (GRIDSNAP_SCREENSHOTS=1), else a temporary folder, so a test run leaves
    the tracked images alone."""
    if os.environ.get("GRIDSNAP_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        return SHOTS
    return tmp_path_factory.mktemp("screenshots")


class Shots:
    """The screenshots one screen test draws. The test module declares them up front, in
    `SCREENS_DRAWN = {test function name: (screen, ...)}`: each screen is drawn as
    `{zh,en}-{screen}.png`, only a declared screen may be drawn, and a test that passes has
    drawn every screen it declares. tests/test_screenshots.py checks that the declared screens
    and docs/screenshots/ are the same set, so a picture no test draws any more is noticed."""

    def __init__(self, folder: Path, test: str, declared) -> None:
        self.folder, self.test, self.declared = folder, test, set(declared)
        self.drawn: set[str] = set()

    def take(self, page, prefix: str, screen: str, **kw) -> Path:
        assert screen in self.declared, f"{screen!r} is not in SCREENS_DRAWN[{self.test!r}]"
        path = self.folder / f"{prefix}-{screen}.png"
        page.screenshot(path=str(path), **kw)
        self.drawn.add(screen)
        return path


@pytest.fixture
def shots(request, screenshots) -> Shots:
    name = request.function.__name__
    declared = getattr(request.module, "SCREENS_DRAWN", {}).get(name)
    assert declared, f"{request.module.__name__}.SCREENS_DRAWN has no entry for {name}"
    failed_before = request.session.testsfailed
    shots = Shots(screenshots, name, declared)
    yield shots
    if request.session.testsfailed == failed_before:  # this test passed: it drew them all
        assert shots.drawn == shots.declared, (
            f"{name} declares {sorted(shots.declared - shots.drawn)} but did not draw them")
