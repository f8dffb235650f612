"""The API's edge: what every request passes before a view sees it, and how the OpenAPI document
describes what is sent back (invariant 5).

- JSON bodies: larger than MAX_JSON_BYTES → 413 `request.too_large` (before they are read;
  other bodies, photos, are bounded by the app's MAX_CONTENT_LENGTH); malformed → 400
  `request.malformed_json`; nested deeper than MAX_JSON_DEPTH → 400 `request.too_deep`; every key and string value, every query parameter, form field and
  path parameter passes the text rule of gridsnap.schemas (→ 422 `request.invalid_text`,
  naming the field).
- Pagination: `page` at most MAX_PAGE (a larger one is a 422, not an SQL overflow), through
  flask-smorest's own hooks: the pagination parser (`PageParser`) and an
  apispec plugin that documents the bound (`PageBoundPlugin`).
- The transaction: one per request, owned here (`unit_of_work`): committed once after the
  view answered below 400 and before the answer leaves (a 2xx is durable: invariant 1), never
  on an error (the session is closed, so rolled back, at teardown). Services do not commit.
- The document: every error is `{code, message, fields}` (errors.py), and `X-Pagination` is a
  string header holding JSON.

Every blueprint is made from `Blueprint` here, and the app's `Api` is `EdgeApi`.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import flask_smorest
import marshmallow as ma
from apispec import BasePlugin
from flask import Flask, current_app, g, request
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from . import transaction
from .errors import AppError
from .schemas import text_problem

MAX_JSON_DEPTH = 32
# the largest JSON body: a report, an action or a campaign takes a few kilobytes
MAX_JSON_BYTES = 1024 * 1024
MAX_PAGE = 1_000_000


# --- text and JSON ---------------------------------------------------------------------------

def _refuse_text(field: str, problem: str):
    raise AppError("request.invalid_text", f"Invalid text in '{field}': {problem}",
                   {field: [problem]})


def _key_label(key: str) -> str:
    # a key that is itself bad text is named by its escaped form
    return key if text_problem(key) is None else key.encode("unicode_escape").decode("ascii")


def check_json(value: Any) -> None:
    """Walk a parsed JSON document without recursion: refuse it if deeper than MAX_JSON_DEPTH
    or if a key or a string breaks the text rule (the field named by its dotted path)."""
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, str):
            problem = text_problem(node)
            if problem:
                _refuse_text(path or "_body", problem)
            continue
        if not isinstance(node, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise AppError("request.too_deep",
                           f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.")
        if isinstance(node, dict):
            for key, item in node.items():
                label = _key_label(key)
                child = f"{path}.{label}" if path else label
                problem = text_problem(key)
                if problem:
                    _refuse_text(child, problem)
                stack.append((item, child, depth + 1))
        else:
            for i, item in enumerate(node):
                stack.append((item, f"{path}.{i}" if path else str(i), depth + 1))


def _refuse_large_json():
    raise AppError("request.too_large",
                   f"A JSON body may have at most {MAX_JSON_BYTES} bytes.")


def load_json_body(raw: bytes) -> Any:
    """A request body as JSON, checked by check_json; raises AppError request.too_large,
    request.malformed_json or request.too_deep (json.JSONDecodeError for an empty body, which
    webargs reads as absent)."""
    if len(raw) > MAX_JSON_BYTES:
        _refuse_large_json()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise AppError("request.malformed_json", "The request body is not UTF-8 JSON.") from None
    if not text.strip():
        raise json.JSONDecodeError("empty body", "", 0)
    try:
        value = json.loads(text)
    except RecursionError:
        raise AppError("request.too_deep",
                       f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.") from None
    except json.JSONDecodeError as exc:
        raise AppError("request.malformed_json",
                       f"The request body is not valid JSON: {exc.msg} at line {exc.lineno}, "
                       f"column {exc.colno}.") from None
    check_json(value)
    return value


def check_mapping(values, location: str) -> None:
    """Query parameters, form fields or path parameters: keys and values pass the text rule."""
    for key, value in (values.items(multi=True) if hasattr(values, "getlist")
                       else values.items()):
        for name, text in ((key, key), (key, value)):
            if isinstance(text, str):
                problem = text_problem(text)
                if problem:
                    _refuse_text(_key_label(name) if location != "path" else name, problem)


class EdgeParser(FlaskParser):
    """webargs' Flask parser with the edge's JSON loading and the text rule on every location."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return core.missing
        return load_json_body(req.get_data(cache=True))

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        raise AppError("request.malformed_json", "The request body is not valid JSON.")

    def load_querystring(self, req, schema):
        check_mapping(req.args, "query")
        return super().load_querystring(req, schema)

    def load_form(self, req, schema):
        check_mapping(req.form, "form")
        return super().load_form(req, schema)


PARSER = EdgeParser()
# the bound of `page`, so that OFFSET stays a bigint (a larger page is a 422 naming `page`)
_PAGE_RANGE = ma.validate.Range(min=1, max=MAX_PAGE)


@functools.cache
def _bounded(schema: type[ma.Schema]) -> type[ma.Schema]:
    """flask-smorest's pagination parameters schema (one class per paginated view), with
    `page` at most MAX_PAGE; its default page as the view declared it."""
    default = schema().fields["page"].load_default
    return type(schema.__name__, (schema,),
                {"page": ma.fields.Integer(load_default=default, validate=_PAGE_RANGE)})


class PageParser(EdgeParser):
    """The parser of the pagination parameters (flask-smorest's PAGINATION_ARGUMENTS_PARSER,
    a supported hook): the edge's, reading them with `page` bounded — refused as any invalid
    query parameter is (422 request.invalid, field `page`)."""

    def parse(self, argmap, req=None, **kwargs):
        if isinstance(argmap, ma.Schema):
            argmap = _bounded(type(argmap))()
        elif isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            argmap = _bounded(argmap)
        return super().parse(argmap, req, **kwargs)


class Blueprint(flask_smorest.Blueprint):
    """Every feature's blueprint: the edge's parser for arguments and pagination."""

    ARGUMENTS_PARSER = PARSER
    PAGINATION_ARGUMENTS_PARSER = PageParser()

    @staticmethod
    def _make_pagination_metadata(page, page_size, item_count):
        """flask-smorest's, with `"total_exact": false` when the view's count stopped early
        (db.AtLeast: the total is a lower bound, and the pages go on past it)."""
        meta = flask_smorest.Blueprint._make_pagination_metadata(page, page_size, item_count)
        if getattr(item_count, "exact", True) is False:
            meta["total_exact"] = False
        return meta

    def arguments(self, schema, *args, **kwargs):
        """flask-smorest's, with a schema class made an instance once, here: webargs makes one
        of a class on every request (deep-copying every field, nested schemas too), a tenth of
        the API's own CPU for a report."""
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)


class PageBoundPlugin(BasePlugin):
    """An apispec plugin (after flask-smorest's own, which expand the pagination schema into
    query parameters): documents the bound of `page` on every paginated operation."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            if not isinstance(operation, dict):
                continue
            for param in operation.get("parameters", ()):
                if (isinstance(param, dict) and param.get("in") == "query"
                        and param.get("name") == "page" and "schema" in param):
                    param["schema"]["maximum"] = MAX_PAGE


# --- the document ----------------------------------------------------------------------------

class RowErrorSchema(ma.Schema):
    """One problem of an imported file."""

    line = ma.fields.Integer(required=True, metadata={
        "description": "The file's line (1 is the header; 0 the file as a whole)."})
    field = ma.fields.String(required=True, metadata={"description": "The column at fault."})
    code = ma.fields.String(required=True, metadata={
        "description": "A stable code, e.g. catalogue.unknown_department."})
    message = ma.fields.String(required=True)


class ErrorSchema(ma.Schema):
    """Every error the API sends (gridsnap.errors.error_body)."""

    code = ma.fields.String(required=True, metadata={
        "description": "A stable code, e.g. report.id_conflict; clients switch on it."})
    message = ma.fields.String(required=True, metadata={"description": "For people."})
    fields_ = ma.fields.Dict(
        data_key="fields", keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()),
        metadata={"description": "The fields at fault (dotted paths) and what is wrong."})
    errors = ma.fields.List(ma.fields.Nested(RowErrorSchema), metadata={
        "description": "import.invalid: every problem of the imported file; nothing was "
                       "imported."})


PAGINATION_HEADER_DOC = {
    "description": "Pagination metadata as a JSON object in a string: "
                   '{"total", "total_pages", "first_page", "last_page", "page", '
                   '"previous_page", "next_page"}; and `"total_exact": false` when the total '
                   "is a lower bound (a list counts at most 10,000 cases past its page: the "
                   "pages go on past it).",
    "schema": {"type": "string"},
}


class EdgeApi(flask_smorest.Api):
    """The API: errors documented as errors.py sends them, X-Pagination as a string header,
    the bound of `page` (PageBoundPlugin)."""

    ERROR_SCHEMA = ErrorSchema

    def __init__(self, app=None, *, spec_kwargs=None, **kwargs):
        spec_kwargs = dict(spec_kwargs or {})
        spec_kwargs["extra_plugins"] = [*spec_kwargs.get("extra_plugins", ()), PageBoundPlugin()]
        super().__init__(app, spec_kwargs=spec_kwargs, **kwargs)

    def _register_pagination_header(self):
        if self.spec.openapi_version.major >= 3:
            self.spec.components.header("PAGINATION", PAGINATION_HEADER_DOC, lazy=True)


def init_edge(app: Flask) -> None:
    """Path parameters pass the text rule before any view runs (e.g. PATCH /admin/users/%00),
    and a JSON body announced larger than MAX_JSON_BYTES is refused unread."""

    @app.before_request
    def _check_path():
        if request.is_json and (request.content_length or 0) > MAX_JSON_BYTES:
            _refuse_large_json()  # before the body is read
        if request.view_args:
            check_mapping(request.view_args, "path")


# --- the transaction -------------------------------------------------------------------------

def unit_of_work(view):
    """`view` in the request's one transaction: the request's session (extensions.db_session,
    owned by the request) is committed once the view's answer is made, if it is a success
    (below 400). A commit that fails raises here, so the error handlers answer it (a database
    away: 503, invariant 9), never a 2xx for what was not saved."""

    @functools.wraps(view)
    def in_one_transaction(*args, **kwargs):
        response = current_app.make_response(view(*args, **kwargs))
        session = g.get("db")
        if session is not None and response.status_code < 400:
            transaction.commit(session)
        return response

    return in_one_transaction


def own_transactions(app: Flask) -> None:
    """Every view of `app` (after its blueprints are registered) in unit_of_work."""
    for endpoint, view in list(app.view_functions.items()):
        app.view_functions[endpoint] = unit_of_work(view)
