"""The base map: a deployment's XYZ source (here a tile server the test starts on loopback, solid
magenta PNGs made with Pillow) drawn on the worker's map and the command centre, the worker's
area saved for offline use and drawn with the tile server gone, and a plain notice when no base
map can be reached. Nothing is fetched from the internet."""

from __future__ import annotations

import dataclasses
import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from gridsnap.app import create_app

from .conftest import LiveServer
from .pwa import login, wait_for_idb, wait_for_offline_data, wait_for_service_worker
from conftest import PERSONAS

MAGENTA = (255, 0, 255)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (256, 256), MAGENTA).save(out, "PNG")
    return out.getvalue()


class TileServer:
    """XYZ tiles on 127.0.0.1:<free port>: /{z}/{x}/{y}.png, CORS, never cached by the browser."""

    def __init__(self):
        png, self.requests = _png(), []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(png)))
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(png)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/{{z}}/{{x}}/{{y}}.png"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def tiles():
    srv = TileServer()
    yield srv
    srv.stop()


@pytest.fixture()
def mapped_server(settings, runtime, pwa_dist, tiles):
    """The app with the tile server as its base map (GRIDSNAP_BASEMAP=xyz)."""
    app = create_app(dataclasses.replace(settings, basemap="xyz", basemap_url=tiles.url,
                                         basemap_attribution="test tiles"))
    app.extensions["gridsnap"] = runtime
    server = LiveServer(app).start()
    yield server
    server.stop()


_TILES_SHOWN = """() => {
    const tiles = [...document.querySelectorAll('.leaflet-tile-loaded')];
    return tiles.length > 0 && tiles.every((t) => getComputedStyle(t).opacity === '1');
}"""


def magenta_share(png: bytes) -> float:
    im = Image.open(io.BytesIO(png)).convert("RGB")
    px = list(im.get_flattened_data()) if hasattr(im, "get_flattened_data") else list(im.getdata())
    return sum(1 for p in px if p[0] > 200 and p[1] < 60 and p[2] > 200) / len(px)


def test_worker_map_draws_saves_and_uses_the_base_map_offline(
        browser, mapped_server, tiles, worker_login, demo_cell):
    ctx = browser.new_context(
        viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True, locale="zh-CN",
        base_url=mapped_server.url, permissions=["geolocation"],
        geolocation={"latitude": demo_cell["lat"], "longitude": demo_cell["lon"], "accuracy": 8})
    ctx.set_default_timeout(20000)
    try:
        page = ctx.new_page()
        login(page, *worker_login)
        wait_for_offline_data(page)
        wait_for_service_worker(page)
        page.evaluate("() => { window.location.hash = '#/settings'; }")
        page.reload()  # the map reads the deployment's base map (pulled with the first sync)
        page.click("[data-testid=tab-map]")
        page.wait_for_function(_TILES_SHOWN)  # loaded, and faded in
        map_el = page.locator("[data-testid=map]")
        assert magenta_share(map_el.screenshot()) > 0.3  # tiles under the grid

        page.click("[data-testid=tab-settings]")
        page.click("[data-testid=basemap-save]")
        saved = page.wait_for_selector("[data-testid=basemap-saved]").inner_text()
        assert "MB" in saved and "已保存" in saved
        fetched = len(tiles.requests)
        assert fetched >= 10

        tiles.stop()  # no base map on the network any more
        ctx.set_offline(True)
        page.reload()
        page.click("[data-testid=tab-map]")
        page.wait_for_function(_TILES_SHOWN)  # loaded, and faded in
        # the opening view is wider than the cells: the saved margin fills it
        share = magenta_share(page.locator("[data-testid=map]").screenshot())
        print(f"offline opening view: {share:.0%} base map")
        assert share > 0.6
        assert page.locator("[data-testid=basemap-unreachable]").count() == 0

        # deeper than the saved levels (z17): the saved tiles stretched, not a blank map
        page.evaluate("([lat, lon]) => window.__gridsnapWorkerMap.setView([lat, lon], 18, "
                      "{ animate: false })", [demo_cell["lat"], demo_cell["lon"]])
        page.wait_for_function("() => window.__gridsnapWorkerMap.getZoom() === 18")
        page.wait_for_selector("[data-testid=map][data-native-zoom='17']")
        page.wait_for_function(_TILES_SHOWN)
        share = magenta_share(page.locator("[data-testid=map]").screenshot())
        print(f"offline at z18: {share:.0%} base map")
        assert share > 0.6
        assert page.locator("[data-testid=basemap-unreachable]").count() == 0

        # deleted, and nothing kept from visits either: the screen says so, the grid stays
        page.click("[data-testid=tab-settings]")
        page.click("[data-testid=basemap-delete]")
        page.wait_for_selector("[data-testid=basemap-save]")
        page.evaluate("() => caches.delete('gridsnap-tiles')")
        page.click("[data-testid=tab-map]")
        # offline: it says so (not "no network or no base map service")
        page.wait_for_selector("[data-testid=basemap-unreachable][data-why='map.basemap_offline']"
                               ":has-text('离线')")
        page.wait_for_selector(".leaflet-overlay-pane canvas")  # the cells are drawn all the same
    finally:
        ctx.close()


def test_command_centre_draws_the_base_map(browser, mapped_server, demo_users):
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB",
                              base_url=mapped_server.url)
    ctx.set_default_timeout(20000)
    try:
        page = ctx.new_page()
        name = PERSONAS["supervisor"]
        page.goto("/")
        page.fill("#username", name)
        page.fill("#password", demo_users[name]["password"])
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=command]")
        wait_for_idb(page, """async () => {
            const db = await new Promise((ok, no) => { const r = indexedDB.open('gridsnap');
                r.onsuccess = () => ok(r.result); r.onerror = no; });
            const v = await new Promise((ok) => { const q = db.transaction('kv').objectStore('kv')
                .get('server'); q.onsuccess = () => ok(q.result); });
            db.close();
            return v && v.basemap && v.basemap.url;
        }""", what="the deployment's base map on the device")
        page.reload()  # the map reads the deployment's base map (pulled with the first sync)
        page.wait_for_selector("[data-testid=cmd-map][data-base-tiles]")
        page.wait_for_function(
            "() => window.__gridsnapMap && window.__gridsnapMap.areTilesLoaded()")
        assert magenta_share(page.locator("[data-testid=cmd-map]").screenshot()) > 0.05
    finally:
        ctx.close()
