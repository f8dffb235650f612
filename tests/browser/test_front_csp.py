"""The PWA and the command centre in Chromium through nginx, as `make run` serves them: the
front server configured from deploy/nginx with its real Content-Security-Policy and security
headers, gunicorn behind it. The browser must report no CSP violation while the worker logs in,
caches the offline data, installs the service worker, saves a report with a photo (a blob:
preview), draws the map (Leaflet) over an https base map, and while a supervisor's command
centre draws its MapLibre map (a blob: worker) with the cases' vector tiles from the API.

The https base map is answered by the browser context itself (a Playwright route with a PNG),
so nothing leaves the machine; the CSP is checked before any route sees a request.
"""

from __future__ import annotations

import dataclasses
import io
from contextlib import ExitStack

import pytest
from PIL import Image

from cases_helpers import submit
from gridsnap.maps.rules import basemap_origins

from .command import DESKTOP, wait_map_feature, wait_map_idle, zoom_map_to
from .conftest import PHONE
from .pwa import (
    capture,
    db_reports,
    login,
    wait_for_idb,
    wait_for_offline_data,
    wait_for_service_worker,
    wait_outbox,
)
from conftest import PERSONAS
from live_stack import gunicorn, nginx_in_front
from photo_samples import make_jpeg

BASEMAP_HOST = "https://tiles.gridsnap.test"
BASEMAP = BASEMAP_HOST + "/{z}/{x}/{y}.png"
# a city intranet's tile server over http, and a place the policy must not let the page reach
HTTP_BASEMAP_HOST = "http://tiles.intranet.test:8080"
HTTP_BASEMAP = HTTP_BASEMAP_HOST + "/{z}/{x}/{y}.png"
ELSEWHERE = "https://elsewhere.gridsnap.test"

# Every violation the document sees goes to Python at once (an exposed binding survives reloads).
_WATCH = """(() => {
    document.addEventListener('securitypolicyviolation', (e) => window.__cspViolation(
        `${e.effectiveDirective} blocked ${e.blockedURI || '(inline)'} in ${e.sourceFile || '?'}`
        + `:${e.lineNumber}`));
})();"""

_TILES_SHOWN = """() => {
    const tiles = [...document.querySelectorAll('.leaflet-tile-loaded')];
    return tiles.length > 0 && tiles.every((t) => getComputedStyle(t).opacity === '1');
}"""

_BASEMAP_ON_DEVICE = """async () => {
    const db = await new Promise((ok, no) => { const r = indexedDB.open('gridsnap');
        r.onsuccess = () => ok(r.result); r.onerror = no; });
    const v = await new Promise((ok) => { const q = db.transaction('kv').objectStore('kv')
        .get('server'); q.onsuccess = () => ok(q.result); });
    db.close();
    return v && v.basemap && v.basemap.url;
}"""


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (256, 256), (200, 220, 200)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def front(settings, database, pwa_dist, tmp_path_factory):
    """nginx from deploy/ in front of gunicorn (whose app serves pwa/dist), the deployment's base
    map an https XYZ source; yields nginx's base URL."""
    root = tmp_path_factory.mktemp("front-browser")
    with ExitStack() as stack:
        api = stack.enter_context(gunicorn(settings, root / "gunicorn.log", env={
            "GRIDSNAP_TRUSTED_PROXIES": "1", "GRIDSNAP_BASEMAP": "xyz",
            "GRIDSNAP_BASEMAP_URL": BASEMAP, "GRIDSNAP_BASEMAP_ATTRIBUTION": "test tiles"}))
        origins = basemap_origins(dataclasses.replace(settings, basemap="xyz", basemap_url=BASEMAP))
        port = stack.enter_context(nginx_in_front(root / "nginx", api, settings.max_body_bytes,
                                                  origins))
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def front_http(settings, database, pwa_dist, tmp_path_factory):
    """The same front with the deployment's base map on an http intranet tile server."""
    root = tmp_path_factory.mktemp("front-http")
    with ExitStack() as stack:
        api = stack.enter_context(gunicorn(settings, root / "gunicorn.log", env={
            "GRIDSNAP_TRUSTED_PROXIES": "1", "GRIDSNAP_BASEMAP": "xyz",
            "GRIDSNAP_BASEMAP_URL": HTTP_BASEMAP}))
        origins = basemap_origins(dataclasses.replace(settings, basemap="xyz",
                                                      basemap_url=HTTP_BASEMAP))
        port = stack.enter_context(nginx_in_front(root / "nginx", api, settings.max_body_bytes,
                                                  origins))
        yield f"http://127.0.0.1:{port}"


class Watched:
    """A browser context on the front server that records CSP violations (the document's
    events and Chromium's console errors about the policy) and errors thrown in pages, and
    answers the https base map's tiles itself."""

    def __init__(self, browser, base_url: str, tiles_host: str = BASEMAP_HOST, **options) -> None:
        self.violations: list[str] = []
        self.errors: list[str] = []
        self.tiles: list[str] = []
        self.ctx = browser.new_context(base_url=base_url, service_workers="allow", **options)
        self.ctx.set_default_timeout(20000)
        self.ctx.expose_binding("__cspViolation", lambda _src, text: self.violations.append(text))
        self.ctx.add_init_script(script=_WATCH)
        png = _png()

        def tile(route):
            self.tiles.append(route.request.url)
            route.fulfill(status=200, body=png, headers={
                "Content-Type": "image/png", "Access-Control-Allow-Origin": "*",
                "Cache-Control": "no-store"})

        self.ctx.route(tiles_host + "/**", tile)
        self.ctx.route(ELSEWHERE + "/**", tile)

    def new_page(self):
        page = self.ctx.new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))
        return page

    def _console(self, msg) -> None:
        if msg.type != "error":
            return
        text = msg.text
        if "Content Security Policy" in text or "Refused to" in text:
            self.violations.append(f"console: {text}")
        else:
            self.errors.append(text)

    def close(self) -> None:
        self.ctx.close()


def assert_front_headers(resp, tiles_host: str = BASEMAP_HOST) -> None:
    """The document came through nginx with the policy of deploy/nginx/gridsnap.conf.tmpl: the
    configured base map's origin allowed for images and fetches, and no other."""
    h = resp.headers
    csp = h.get("content-security-policy", "")
    for part in ("default-src 'self'", "script-src 'self';", "worker-src 'self' blob:",
                 f"img-src 'self' data: blob: {tiles_host};",
                 f"connect-src 'self' {tiles_host};", "frame-ancestors 'none'",
                 "object-src 'none'"):
        assert part in csp, (part, csp)
    assert h.get("x-content-type-options") == "nosniff"
    assert h.get("x-frame-options") == "DENY"
    assert h.get("referrer-policy") == "same-origin"
    assert "server" not in h or "nginx/" not in h["server"]  # server_tokens off


def test_pwa_through_nginx_runs_under_its_csp_installs_the_worker_and_syncs(
        browser, front, worker_login, demo_cell, engine, tmp_path):
    jpeg = tmp_path / "photo.jpg"
    jpeg.write_bytes(make_jpeg(1600, 1200, seed=3))
    w = Watched(browser, front, viewport=PHONE, device_scale_factor=2, is_mobile=True,
                has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai",
                permissions=["geolocation"],
                geolocation={"latitude": demo_cell["lat"], "longitude": demo_cell["lon"],
                             "accuracy": 8})
    try:
        page = w.new_page()
        assert_front_headers(page.goto("/"))
        login(page, *worker_login)  # POST /api/v1/auth/token through nginx's login limit
        wait_for_offline_data(page)  # categories and cells from the API, into IndexedDB
        wait_for_service_worker(page)

        # a report with a photo: the draft shows it from a blob: URL, the outbox sends both
        capture(page, [jpeg], "E0101", "经前端服务器")
        items = wait_outbox(page, lambda xs: xs and xs[0]["state"] == "accepted",
                            what="the report accepted through nginx")
        rows = db_reports(engine)
        assert [(r["id"], r["photos"]) for r in rows] == [(items[0]["id"], 1)]

        # the next load is the service worker's, still under the policy
        page.reload()
        page.wait_for_selector("nav.tabbar")
        assert page.evaluate("() => navigator.serviceWorker.controller !== null")
        wait_for_idb(page, _BASEMAP_ON_DEVICE, what="the deployment's base map on the device")
        page.reload()  # the map reads the base map pulled with the first sync
        page.click("[data-testid=tab-map]")
        page.wait_for_function(_TILES_SHOWN)  # https tiles through the service worker
        assert w.tiles, "no base-map tile was asked for"

        assert w.violations == []
        assert w.errors == []
    finally:
        w.close()


def test_command_centre_through_nginx_draws_its_map_under_the_csp(
        browser, front, demo_users, client, tokens, demo_cell, runtime):
    case_id = submit(client, tokens, demo_cell, runtime, description="经前端服务器的案件")
    w = Watched(browser, front, viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    try:
        page = w.new_page()
        assert_front_headers(page.goto("/"))
        name = PERSONAS["supervisor"]
        page.fill("#username", name)
        page.fill("#password", demo_users[name]["password"])
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=command]")
        wait_for_idb(page, _BASEMAP_ON_DEVICE, what="the deployment's base map on the device")
        page.reload()
        page.wait_for_selector("[data-testid=cmd-map][data-base-tiles] canvas")
        wait_map_idle(page)
        zoom_map_to(page, demo_cell["lon"], demo_cell["lat"], 16)
        # the case came in a vector tile from the API and was parsed in MapLibre's blob: worker
        wait_map_feature(page, case_id)
        assert w.tiles, "no base-map tile was asked for"

        assert w.violations == []
        assert w.errors == []
    finally:
        w.close()


def test_an_http_tile_server_is_allowed_when_configured_and_nothing_else(
        browser, front_http, worker_login, demo_cell):
    """Many city intranets serve tiles over http: the configured origin is in the policy (and
    only it), so the worker's map draws its tiles; a fetch elsewhere is still refused."""
    w = Watched(browser, front_http, tiles_host=HTTP_BASEMAP_HOST, viewport=PHONE,
                is_mobile=True, has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai",
                permissions=["geolocation"],
                geolocation={"latitude": demo_cell["lat"], "longitude": demo_cell["lon"],
                             "accuracy": 8})
    try:
        page = w.new_page()
        assert_front_headers(page.goto("/"), HTTP_BASEMAP_HOST)
        login(page, *worker_login)
        wait_for_offline_data(page)
        wait_for_idb(page, _BASEMAP_ON_DEVICE, what="the deployment's base map on the device")
        page.reload()
        page.click("[data-testid=tab-map]")
        page.wait_for_function(_TILES_SHOWN)
        assert w.tiles and all(u.startswith(HTTP_BASEMAP_HOST) for u in w.tiles)
        assert page.locator("[data-testid=basemap-unreachable]").count() == 0
        assert w.violations == []

        refused = page.evaluate("""(u) => fetch(u).then(() => 'fetched', () => 'refused')""",
                                ELSEWHERE + "/x.png")
        assert refused == "refused"
        assert any("connect-src" in v and "elsewhere.gridsnap.test" in v for v in w.violations)
    finally:
        w.close()
