"""Stable error codes and the JSON error body every failure is answered with.

Body: {"code": "report.id_conflict", "message": "…", "fields": {"location.lat": ["…"]}}.
A code is defined here once; clients (the PWA, the hotline) switch on it, never on the message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import psycopg
from flask import Flask, jsonify
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from .db import is_unavailable

log = logging.getLogger(__name__)

# code -> HTTP status
CODES: dict[str, int] = {
    "request.invalid": 422,
    "request.invalid_text": 422,
    "request.too_deep": 400,
    "request.malformed_json": 400,
    "request.bad_request": 400,
    "request.incomplete_body": 400,
    "request.timeout": 408,
    "request.too_large": 413,
    "request.not_found": 404,
    "request.method_not_allowed": 405,
    "request.uri_too_long": 414,
    "request.headers_too_large": 431,
    "request.unsupported_media_type": 415,
    "auth.required": 401,
    "auth.invalid_token": 401,
    "auth.bad_credentials": 401,
    "auth.open311_key": 401,
    "auth.forbidden": 403,
    "auth.too_many_attempts": 429,
    "report.not_found": 404,
    "report.id_conflict": 409,
    "report.unknown_category": 422,
    "report.implausible_time": 422,
    "photo.not_found": 404,
    "photo.id_conflict": 409,
    "photo.too_large": 413,
    "photo.unsupported_type": 415,
    "photo.not_an_image": 422,
    "photo.too_many_pixels": 422,
    "photo.not_ready": 409,
    "photo.storage_failed": 503,
    "upload.not_found": 404,
    "upload.gone": 410,
    "upload.offset_mismatch": 409,
    "upload.locked": 423,
    "upload.too_long": 413,
    "upload.version_unsupported": 412,
    "upload.bad_header": 400,
    "upload.quota_exceeded": 429,
    "photo.too_many": 409,
    "grid.bbox_too_large": 422,
    "case.not_found": 404,
    "case.invalid_transition": 409,
    "case.action_forbidden": 403,
    "case.precondition_failed": 412,
    "case.photo_required": 422,
    "case.note_required": 422,
    "case.too_far": 422,
    "case.bad_target": 422,
    "case.action_id_conflict": 409,
    "case.bad_review_date": 422,
    "case.no_department": 409,
    "case.bad_departments": 422,
    "case.already_joint": 409,
    "case.joint_feedback_missing": 409,
    "case.notice_not_allowed": 409,
    "case.notice_ground_required": 422,  # 督办 on a case without a ground of its own
    "case.notice_not_found": 422,
    "campaign.not_found": 404,
    "dispute.not_found": 404,
    "dispute.id_conflict": 409,
    "dispute.invalid_step": 409,
    "dispute.note_required": 422,
    "dispute.not_agreed": 409,  # an agreement photo before 达成协议
    "dispute.too_many_photos": 409,
    "patrol.not_found": 404,
    "patrol.id_conflict": 409,
    "patrol.outside_scope": 403,
    "patrol.plan_not_found": 404,
    "campaign.outside_scope": 403,
    "export.too_many_rows": 422,
    "export.callers_forbidden": 403,
    "routing.conflict": 409,
    "routing.not_found": 404,
    "notification.not_found": 404,
    "user.not_found": 404,
    "user.invalid": 422,
    "hotline.location_required": 422,
    # an imported file (catalogue, dispatch catalogue, address points) with problems: every
    # problem in `errors` with its line, field and code; nothing was imported
    "import.invalid": 422,
    "caller.not_found": 404,
    "caller.reason_required": 422,
    "open311.client_exists": 409,
    # GeoReport v2 answers with its own HTTP codes: 400 bad request, 403 key, 404 not found
    "open311.bad_request": 400,
    "open311.forbidden": 403,
    "open311.outside_area": 403,
    "open311.no_grid": 400,
    "open311.not_found": 404,
    "open311.client_not_found": 404,
    "service.unavailable": 503,
    "internal": 500,
}


@dataclass
class AppError(Exception):
    """A failure with a stable code; raised by services, answered as JSON by the app."""

    code: str
    message: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    # the problems of an imported file, one per row and field ({line, field, code, message})
    rows: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown error code {self.code!r}: add it to gridsnap.errors.CODES")
        super().__init__(self.message)

    @property
    def status(self) -> int:
        return CODES[self.code]


def error_body(code: str, message: str, fields: dict | None = None,
               rows: list[dict] | None = None) -> dict:
    body: dict = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    if rows:
        body["errors"] = rows
    return body


def _flatten(messages, prefix: str = "") -> dict[str, list[str]]:
    """webargs/marshmallow messages {"json": {"location": {"lat": [..]}}} -> {"location.lat": [..]}."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, list):
        if all(isinstance(m, str) for m in messages):
            out[prefix or "_schema"] = list(messages)
            return out
        for i, m in enumerate(messages):
            out.update(_flatten(m, f"{prefix}.{i}" if prefix else str(i)))
        return out
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = str(key)
            out.update(_flatten(value, f"{prefix}.{name}" if prefix else name))
        return out
    out[prefix or "_schema"] = [str(messages)]
    return out


_HTTP_CODES = {
    400: ("request.malformed_json", "The request body is not valid JSON."),
    401: ("auth.required", "Log in first: send 'Authorization: Bearer <token>'."),
    403: ("auth.forbidden", "You may not do this."),
    404: ("request.not_found", "There is nothing at this address."),
    405: ("request.method_not_allowed", "This method is not allowed here."),
    413: ("request.too_large", "The request body is too large."),
    415: ("request.unsupported_media_type", "This content type is not accepted here."),
}


RETRY_AFTER_S = 2


def unavailable_response():
    """503 service.unavailable with Retry-After: a dependency is away, try again shortly."""
    resp = jsonify(error_body("service.unavailable",
                              "The service is briefly unavailable; try again shortly."))
    resp.status_code = 503
    resp.headers["Retry-After"] = str(RETRY_AFTER_S)
    return resp


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(AppError)
    def _app_error(exc: AppError):
        resp = jsonify(error_body(exc.code, exc.message, exc.fields, exc.rows))
        resp.status_code = exc.status
        for k, v in exc.headers.items():
            resp.headers[k] = v
        return resp

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        data = getattr(exc, "data", None) or {}
        if status == 422 and "messages" in data:
            # webargs validation: strip the location level ("json", "query") from field paths
            messages = data["messages"]
            flat: dict[str, list[str]] = {}
            for _location, msgs in messages.items():
                flat.update(_flatten(msgs))
            first = next(iter(flat), "request")
            resp = jsonify(error_body("request.invalid", f"Invalid value for '{first}'.", flat))
            resp.status_code = 422
            return resp
        code, message = _HTTP_CODES.get(status, ("internal", "Something went wrong."))
        if status == 400 and exc.description and "JSON" not in str(exc.description):
            code, message = "request.invalid", str(exc.description)
        resp = jsonify(error_body(code, message))
        resp.status_code = status
        if status == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            resp.headers["Allow"] = ", ".join(exc.valid_methods)
        return resp

    @app.errorhandler(DBAPIError)
    @app.errorhandler(psycopg.Error)
    def _database_error(exc: Exception):
        if is_unavailable(exc):
            # PostgreSQL restarting or out of reach, the connection cut: nothing was saved
            # (the transaction did not commit), the client sends the same request again
            # (invariant 9). The pool drops broken connections; the next ones are fresh.
            log.warning("database unavailable: %s", type(exc).__name__)
            return unavailable_response()
        return _unexpected(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        resp = jsonify(error_body("internal", "Something went wrong on the server; it was logged."))
        resp.status_code = 500
        return resp
