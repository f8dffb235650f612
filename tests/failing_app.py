"""A WSGI app that fails where Flask cannot answer for it, for the test of gunicorn's own error
answers (tests/test_front_server.py): /raise raises, /hang outlives gunicorn's --timeout."""

from __future__ import annotations

import threading


def app(environ, start_response):
    if environ["PATH_INFO"] == "/raise":
        raise RuntimeError("an error no framework handled")
    if environ["PATH_INFO"] == "/hang":
        threading.Event().wait()  # until gunicorn's master kills the worker
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
