"""Serves the built PWA (pwa/dist) at /: hashed assets cached for ever, the shell never stale."""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path

from flask import Blueprint, Response, send_from_directory
from werkzeug.routing import PathConverter

from ..settings import REPO_ROOT

blp = Blueprint("web", __name__)

# not in every system's mime.types; browsers want the manifest's own type
mimetypes.add_type("application/manifest+json", ".webmanifest")

DIST = Path(os.environ.get("GRIDSNAP_PWA_DIST", REPO_ROOT / "pwa" / "dist"))

_NOT_BUILT = """<!doctype html><html lang="zh-CN"><meta charset="utf-8">
<title>gridsnap</title><body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>gridsnap</h1><p>应用尚未构建。请运行 <code>make run</code>。</p>
<p>The app is not built yet. Run <code>make run</code>.</p>
<p><a href="/api/v1/docs">API</a></p></body></html>"""


def _send(path: str):
    resp = send_from_directory(DIST, path)
    if path.startswith("assets/"):
        # content-hashed file names: a changed file has a new name
        resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        # the shell, the manifest and the service worker must be revalidated every time
        resp.headers["Cache-Control"] = "no-cache"
    if path in ("sw.js", "service-worker.js"):
        resp.headers["Service-Worker-Allowed"] = "/"
    return resp


class AppPath(PathConverter):
    """Any path outside /api/: unknown API addresses stay JSON 404s (or 405s), never the app."""

    regex = r"(?!api/)[^/].*?"


@blp.record_once
def _register_converter(state) -> None:
    state.app.url_map.converters["app_path"] = AppPath


@blp.get("/")
@blp.get("/<app_path:path>")
def app_shell(path: str = ""):
    if not (DIST / "index.html").exists():
        return Response(_NOT_BUILT, status=503, mimetype="text/html")
    if path and (DIST / path).is_file():
        return _send(path)
    if path.startswith("assets/") or "." in path.rsplit("/", 1)[-1]:
        from werkzeug.exceptions import NotFound

        raise NotFound()
    return _send("index.html")  # client-side routes
