"""gunicorn's sync worker with its own error answers in the API's JSON shape (errors.py).

gunicorn answers by itself, with an HTML page, when a request line or header cannot be parsed
(400) and when the application fails outside Flask's handlers — above all when the master kills
a worker past `--timeout` mid-request (500). A client of the API must only ever meet JSON with
a stable code, and a server's passing trouble is 503 with Retry-After, never 500 (invariant 9):
this worker writes those answers instead, and is otherwise gunicorn's SyncWorker.
`gridsnap serve`, `make run` (deploy/supervisord.conf.tmpl) and the tests run it
(`--worker-class gridsnap.serving.JsonErrorsWorker`).
"""

from __future__ import annotations

import json
import re

from gunicorn import util
from gunicorn.glogging import Logger
from gunicorn.workers.sync import SyncWorker

RETRY_AFTER_S = 5
# gunicorn's own 4xx refusals with a code of their own (errors.CODES); the rest are
# request.bad_request
_CODES = {405: "request.method_not_allowed", 414: "request.uri_too_long",
          431: "request.headers_too_large"}


def _json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's util.write_error, in JSON: a client's malformed request keeps its 4xx (code
    request.bad_request), anything of the server's becomes 503 service.unavailable."""
    if 400 <= status_int < 500:
        code = _CODES.get(status_int, "request.bad_request")
        status, message, extra = status_int, mesg or reason, ""
    else:
        status, code, extra = 503, "service.unavailable", f"Retry-After: {RETRY_AFTER_S}\r\n"
        message, reason = "The service is restarting; try again shortly.", "Service Unavailable"
    body = json.dumps({"code": code, "message": message}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n")
    util.write_nonblock(sock, head.encode("latin-1") + body)


_API_KEY = re.compile(r"([?&]api_key=)[^&\s\"]*", re.IGNORECASE)


def redact(text: str) -> str:
    """A request line or URL with the value of every api_key parameter replaced."""
    return _API_KEY.sub(r"\1[redacted]", text) if text else text


class RedactingLogger(Logger):
    """gunicorn's logger, its access lines without api_key values (an Open311 client may send
    its key in the query string): the request line, query string and referrer are redacted."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "q", "f", "U"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms


class JsonErrorsWorker(SyncWorker):
    """SyncWorker whose own error answers are JSON (see the module's doc)."""

    def handle_error(self, req, client, addr, exc):
        # one request at a time in a sync worker: the swap cannot meet another request
        write_error = util.write_error
        util.write_error = _json_error
        try:
            super().handle_error(req, client, addr, exc)
        finally:
            util.write_error = write_error
