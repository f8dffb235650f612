"""The real S3 server of the tests (SeaweedFS, devservices.LocalSeaweed) and a test client that
does what the front server does with X-Accel-Redirect: fetch the photo from the store."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
import uuid
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gridsnap.devservices import LocalSeaweed
from gridsnap.photos.api import PHOTO_STORE_LOCATION
from gridsnap.settings import local_s3_options
from gridsnap.storage import S3PhotoStorage


def s3_pass() -> bool:
    """GRIDSNAP_TEST_PHOTO_STORE=s3: the session's photos live in a bucket (`make test` runs
    the photo tests a second time so)."""
    return (os.environ.get("GRIDSNAP_TEST_PHOTO_STORE") or "").strip().lower() == "s3"


def ensure_server() -> tuple[LocalSeaweed, bool]:
    """The checkout's S3 server, started if it is not running; (server, started by us)."""
    server = LocalSeaweed()
    return server, server.start()


_made: set[str] = set()


def new_bucket(bucket: str = "gridsnap-test") -> tuple[str, dict[str, str]]:
    """A store of its own on the local server: (s3://bucket/<fresh prefix>, its connection
    options). One bucket, made once (SeaweedFS gives each bucket volumes of its own: a bucket
    per test would cost seconds each), a prefix per call."""
    options = local_s3_options()
    if bucket not in _made:
        S3PhotoStorage(bucket, "", options).create_bucket()
        _made.add(bucket)
    return f"s3://{bucket}/{uuid.uuid4().hex[:12]}", options


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    """GET `url` without credentials: (status, headers, body)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


class FrontClient(FlaskClient):
    """A test client that follows X-Accel-Redirect to the object store, as nginx's internal
    /_photo_store/ location does (deploy/nginx/gridsnap.conf.tmpl): the answer keeps the API's
    headers and gets the store's bytes and status."""

    store_origin = ""

    def open(self, *args, **kwargs) -> TestResponse:
        resp = super().open(*args, **kwargs)
        target = resp.headers.get("X-Accel-Redirect")
        if not target or not target.startswith(PHOTO_STORE_LOCATION):
            return resp
        origin = self.store_origin or local_s3_options()["endpoint_url"]
        status, headers, body = fetch(origin + "/" + target[len(PHOTO_STORE_LOCATION):])
        resp.status_code = status
        resp.set_data(body)
        del resp.headers["X-Accel-Redirect"]
        resp.headers["Content-Type"] = headers.get("Content-Type", resp.mimetype)
        return resp


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
