"""A large photo over a throttled, breaking link: Chromium's network conditions slow the upload,
and a proxy between the browser and the server hangs up five times in the middle of its body, or
goes silent (no byte either way, no reset). The PWA resumes by tus each time from the server's
offset, says so on the screen when the link stalled, and the photo arrives whole."""

from __future__ import annotations

import contextlib
import socket
import threading

from sqlalchemy import text

from .pwa import capture, login, wait_for_offline_data, wait_outbox
from live_stack import wait_until
from photo_samples import make_jpeg


class CuttingProxy:
    """A TCP proxy to the live server on 127.0.0.1:<free port>. Once armed, it cuts the
    connection that carries the `every`-th byte upstream since the last cut, `cuts` times
    (the photo goes in chunks, over whichever of the browser's connections is free), and counts
    every byte it forwards upstream."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        self.cuts_left, self.every, self.cut, self.upstream_bytes, self.since_cut = 0, 0, 0, 0, 0
        self.closing = False
        self.flowing = threading.Event()  # cleared: a silent link, bytes held both ways
        self.flowing.set()
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, cuts: int, every: int) -> None:
        with self.lock:
            self.cuts_left, self.every, self.upstream_bytes, self.since_cut = cuts, every, 0, 0

    def go_silent(self) -> None:
        self.flowing.clear()

    def speak_again(self) -> None:
        self.flowing.set()

    def close(self) -> None:
        self.closing = True
        self.flowing.set()
        self.listener.close()

    def _accept(self):
        while not self.closing:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.upstream_port))
            threading.Thread(target=self._up, args=(client, server), daemon=True).start()
            threading.Thread(target=self._down, args=(server, client), daemon=True).start()

    def _up(self, client, server):
        with contextlib.suppress(OSError):
            while chunk := client.recv(16384):
                self.flowing.wait()
                with self.lock:
                    cut = bool(self.cuts_left) and self.since_cut + len(chunk) >= self.every
                    if cut:
                        self.cuts_left -= 1
                        self.cut += 1
                        chunk = chunk[: max(self.every - self.since_cut, 0)]
                        self.since_cut = 0
                    else:
                        self.since_cut += len(chunk)
                    self.upstream_bytes += len(chunk)
                server.sendall(chunk)
                if cut:  # the line drops: the server keeps what came, the browser sees a reset
                    break
        for s in (server, client):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _down(self, server, client):
        with contextlib.suppress(OSError):
            while chunk := server.recv(65536):
                self.flowing.wait()
                client.sendall(chunk)
        with contextlib.suppress(OSError):
            client.shutdown(socket.SHUT_RDWR)


def test_a_large_photo_cut_five_times_on_a_slow_link_arrives_whole(
        browser, live_server, worker_login, demo_cell, engine, tmp_path):
    photo = tmp_path / "big.jpg"
    photo.write_bytes(make_jpeg(2048, 1536, quality=98, seed=11))
    proxy = CuttingProxy(live_server.port)
    ctx = browser.new_context(
        viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True, locale="zh-CN",
        base_url=proxy.url, permissions=["geolocation"],
        geolocation={"latitude": demo_cell["lat"], "longitude": demo_cell["lon"], "accuracy": 8})
    ctx.set_default_timeout(30000)
    try:
        page = ctx.new_page()
        login(page, *worker_login)
        wait_for_offline_data(page)
        cdp = ctx.new_cdp_session(page)
        cdp.send("Network.enable")
        # saved offline: the phone's photo (downscaled to 2048 px, JPEG 0.85) is what goes, and
        # the cuts are armed at a sixth of it once its size is known
        cdp.send("Network.emulateNetworkConditions", {
            "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        capture(page, [photo], "E0101", "大图断线续传")
        item = wait_outbox(page, lambda xs: len(xs) == 1, what="the saved report")[0]
        size = item["photos"][0]["size"]
        assert size > 300 * 1024, size  # large enough for tus
        proxy.arm(cuts=5, every=size // 6)
        # back online over a weak 3G-ish uplink: 400 KB/s up, 100 ms
        cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": 100, "downloadThroughput": 400 * 1024,
            "uploadThroughput": 400 * 1024})
        items = wait_outbox(page, lambda xs: xs[0]["state"] == "accepted", timeout_s=120,
                            what="the report and its photo accepted")
        assert proxy.cut == 5
        pid = items[0]["photos"][0]["id"]
        with engine.connect() as conn:
            row = conn.execute(text("SELECT size_bytes FROM photos WHERE id = :id"),
                               {"id": pid}).mappings().one()
        assert row["size_bytes"] == size
        # whatever else went up meanwhile (HEADs, headers, the pulls) counts as sent twice
        sent_twice = proxy.upstream_bytes - size
        assert sent_twice < 0.10 * size, (proxy.upstream_bytes, size)
    finally:
        ctx.close()
        proxy.close()


def test_a_silent_link_is_told_on_screen_and_the_upload_resumes_from_the_servers_offset(
        browser, live_server, worker_login, demo_cell, engine, tmp_path):
    photo = tmp_path / "big.jpg"
    photo.write_bytes(make_jpeg(2048, 1536, quality=98, seed=12))
    proxy = CuttingProxy(live_server.port)
    ctx = browser.new_context(
        viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True, locale="zh-CN",
        base_url=proxy.url, permissions=["geolocation"],
        geolocation={"latitude": demo_cell["lat"], "longitude": demo_cell["lon"], "accuracy": 8})
    ctx.set_default_timeout(30000)
    try:
        page = ctx.new_page()
        login(page, *worker_login)
        wait_for_offline_data(page)
        cdp = ctx.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", {
            "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        capture(page, [photo], "E0101", "链路静默续传")
        item = wait_outbox(page, lambda xs: len(xs) == 1, what="the saved report")[0]
        size = item["photos"][0]["size"]
        assert size > 300 * 1024, size
        page.click("[data-testid=tab-records]")
        proxy.arm(cuts=0, every=0)  # counts the bytes sent from here on
        # a slow uplink (64 KB/s): the photo takes several chunks
        cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": 100, "downloadThroughput": 400 * 1024,
            "uploadThroughput": 64 * 1024})
        wait_until(lambda: proxy.upstream_bytes > size // 3, 60, "a third of the photo sent")
        # the link goes silent mid-photo: no answer, no reset, for as long as it takes
        proxy.go_silent()
        state = page.locator("[data-testid=outbox-item] [data-testid=item-state]")
        state.filter(has_text="连接停滞").wait_for(timeout=90_000)
        stalled = wait_outbox(page, lambda xs: (xs[0].get("progress") or {}).get("stalled"),
                              what="the stall in the outbox")[0]["progress"]
        assert 0 < stalled["acked"] < size
        assert f"{round(stalled['acked'] / 1024)}/{round(size / 1024)} KB" in state.inner_text()
        proxy.speak_again()
        items = wait_outbox(page, lambda xs: xs[0]["state"] == "accepted", timeout_s=120,
                            what="the report and its photo accepted")
        pid = items[0]["photos"][0]["id"]
        with engine.connect() as conn:
            row = conn.execute(text("SELECT size_bytes FROM photos WHERE id = :id"),
                               {"id": pid}).mappings().one()
        assert row["size_bytes"] == size
        # resumed, not sent again from the start: at most the chunk in flight twice
        assert proxy.upstream_bytes < 1.6 * size, (proxy.upstream_bytes, size)
    finally:
        ctx.close()
        proxy.close()
