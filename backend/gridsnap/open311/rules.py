"""Open311 GeoReport v2 as data: statuses mapped to open/closed, W3C dates, the spec's error
bodies, and its XML (element names exactly as the spec: services/service,
service_requests/request, errors/error, discovery/endpoints/endpoint)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-26T00:00:00+08:00"
FORMATS = ("json", "xml")
MEDIA_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
CLOSED_STATUSES = frozenset({"closed", "rejected", "duplicate"})
MAX_NAME = 100  # first_name, last_name: the callers table's limit
MAX_DESCRIPTION = 2000  # the spec allows 4,000; a case holds 2,000
MAX_MEDIA_URL = 2048  # a posted media_url: an absolute http(s) URL, as browsers keep them
# the endpoints discovery lists: the production API, and a test endpoint under it whose POST
# checks a request exactly as production does but files nothing (the spec's "multiple levels
# of API stability (eg. production and testing)"; validators and client developers try it)
TEST_PATH = "/test"
DEFAULT_DAYS = 90  # GET requests: the most recent 90 days …
MAX_REQUESTS = 1000  # … or the first 1000 requests, whichever is smaller
CLIENT_NAME = r"^[a-z0-9][a-z0-9-]{1,40}$"
USERNAME_PREFIX = "open311-"

# status_notes when the trail's note says nothing
_STATUS_TEXT = {
    "reported": "已受理，待立案。", "accepted": "已立案，待派遣。", "dispatched": "已派遣，处置中。",
    "returned": "已退回指挥中心，待审核后重新派遣。",
    "suspended": "已挂账（暂缓办理），到复查日期后继续办理。", "resolved": "已处置，待核查。", "closed": "已办结。",
    "rejected": "不予立案。", "duplicate": "重复诉求，已与其他案件合并。",
}


def media_url_problem(value: str) -> str | None:
    """Why a posted media_url is refused, or None: an absolute http(s) URL with a host."""
    if len(value) > MAX_MEDIA_URL:
        return f"media_url is limited to {MAX_MEDIA_URL} characters."
    try:
        parts = urlsplit(value)
    except ValueError:
        return "media_url must be an absolute http or https URL."
    if parts.scheme not in ("http", "https") or not parts.hostname or any(
            ch.isspace() for ch in value):
        return "media_url must be an absolute http or https URL."
    return None


def open_or_closed(status: str) -> str:
    return "closed" if status in CLOSED_STATUSES else "open"


def status_notes(status: str, note: str | None) -> str:
    """The case's public note of its latest change of status, else a standard text."""
    return note or _STATUS_TEXT.get(status, "")


def w3c(value: datetime | None, tz: str) -> str | None:
    """An instant as W3C/ISO 8601 with its offset, to the second: 2026-11-24T10:00:00+08:00."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(tz)).isoformat(timespec="seconds")


def error_list(code: int, description: str) -> list[dict]:
    """The spec's error body: a list of {code, description}."""
    return [{"code": code, "description": description}]


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(parent: ET.Element, key: str, value) -> None:
    el = ET.SubElement(parent, key)
    if isinstance(value, dict):
        for k, v in value.items():
            _fill(el, k, v)
    elif isinstance(value, list):
        # a list's items are named by the singular of the list: formats/format,
        # endpoints/endpoint, attributes/attribute, values/value
        for item in value:
            _fill(el, key[:-1], item)
    else:
        el.text = _text(value)


def to_xml(root: str, item: str | None, data) -> bytes:
    """The spec's XML: `<root><item>…</item>…</root>` for a list, `<root>…</root>` for an
    object; UTF-8 with the XML declaration."""
    el = ET.Element(root)
    if item is None:
        for k, v in data.items():
            _fill(el, k, v)
    else:
        for entry in data:
            node = ET.SubElement(el, item)
            for k, v in entry.items():
                _fill(node, k, v)
    return (b'<?xml version="1.0" encoding="UTF-8"?>\n'
            + ET.tostring(el, encoding="unicode").encode("utf-8"))
