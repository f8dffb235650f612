"""Open311 GeoReport v2 under /open311/v2/ (JSON and XML, the spec's errors and HTTP codes),
and the admin API of its clients' keys under /api/v1/admin/open311-clients."""

from __future__ import annotations

import json
import uuid

from flask import Blueprint, Response, request
from flask.views import MethodView

from ..edge import Blueprint as ApiBlueprint
from ..edge import check_mapping
from ..errors import AppError
from ..extensions import db_session, runtime, settings
from ..photos.api import stored_photo
from ..users import permissions
from ..users.auth import SECURITY, auth_required, current_principal
from . import rules, service
from .schemas import ClientInSchema, ClientSchema, IssuedKeySchema

blp = Blueprint("open311", __name__, url_prefix="/open311/v2")
# the same endpoints under /open311/v2/test (registered a second time, by this name): reads as
# production, a POST checked and not filed (discovery lists it as the test endpoint)
TEST_BLUEPRINT = "open311_test"

# the XML root and item elements of each resource
_XML = {"discovery": ("discovery", None), "services": ("services", "service"),
        "definition": ("service_definition", None), "requests": ("service_requests", "request"),
        "errors": ("errors", "error")}


def _format() -> str:
    fmt = (request.view_args or {}).get("fmt", "xml")
    return fmt if fmt in rules.FORMATS else "xml"


def _respond(kind: str, data, status: int = 200) -> Response:
    fmt = _format()
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    else:
        root, item = _XML[kind]
        body = rules.to_xml(root, item, data)
    return Response(body, status=status, content_type=rules.MEDIA_TYPES[fmt])


@blp.errorhandler(AppError)
def _error(exc: AppError):
    # the spec's errors: 404 missing, 403 api_key, 400 anything else
    status = exc.status if exc.status in (403, 404) else 400
    if exc.status >= 500:
        status = exc.status
    resp = _respond("errors", rules.error_list(status, exc.message), status)
    for k, v in exc.headers.items():
        resp.headers[k] = v
    return resp


def _checked() -> None:
    # the one text rule of the API (NUL, lone surrogates, controls, bidi) for query and form,
    # answered in the spec's error format
    check_mapping(request.args, "query")
    check_mapping(request.form, "form")
    if (request.view_args or {}).get("fmt") not in rules.FORMATS:
        raise AppError("open311.bad_request", "The format is .xml or .json.")
    service.check_jurisdiction(settings(), request.values.get("jurisdiction_id"))


def _base_url() -> str:
    """Where Open311 lives, from GRIDSNAP_PUBLIC_URL; never from the request's Host header (a
    forged Host would put another site into discovery and media_url). Unset: a path on this
    server."""
    return settings().public_url + request.script_root + blp.url_prefix


def _reader():
    """The client behind an optional api_key (GET): its scope; none: the public cases."""
    return service.client_for_key(db_session(), request.values.get("api_key"), required=False)


@blp.get("/discovery.<fmt>")
def discovery(fmt: str):
    _checked()
    return _respond("discovery", service.discovery(settings(), _base_url()))


@blp.get("/services.<fmt>")
def services(fmt: str):
    _checked()
    return _respond("services", service.list_services(db_session()))


@blp.get("/services/<code>.<fmt>")
def service_definition(code: str, fmt: str):
    _checked()
    return _respond("definition", service.service_definition(db_session(), code))


@blp.post("/requests.<fmt>")
def post_request(fmt: str):
    _checked()
    client = service.client_for_key(db_session(), request.form.get("api_key"), required=True)
    # 200, as the spec's examples and the clients written against them expect
    return _respond("requests", service.post_request(
        db_session(), client, request.form, settings(),
        test=request.blueprint == TEST_BLUEPRINT))


@blp.get("/requests.<fmt>")
def list_requests(fmt: str):
    _checked()
    return _respond("requests", service.list_requests(db_session(), _reader(), request.args,
                                                      settings(), _base_url()))


@blp.get("/requests/<request_id>.<fmt>")
def get_request(request_id: str, fmt: str):
    _checked()
    return _respond("requests", service.get_request(db_session(), _reader(), request_id,
                                                    settings(), _base_url()))


@blp.get("/tokens/<token>.<fmt>")
def get_token(token: str, fmt: str):
    _checked()
    return _respond("requests", service.get_token(db_session(), _reader(), token))


@blp.get("/media/<uuid:photo_id>.jpg")
def media(photo_id: uuid.UUID):
    key, etag = service.public_media(db_session(), photo_id)
    resp = stored_photo(key, "image/jpeg")
    resp.set_etag(etag)
    resp.headers["Cache-Control"] = "public, max-age=86400"
    return resp


admin_blp = ApiBlueprint("admin_open311", __name__, url_prefix="/admin/open311-clients",
                         description="Open311 client systems and their API keys (admins)")


def _require_admin():
    permissions.require(current_principal(), permissions.MANAGE_OPEN311_CLIENTS)


@admin_blp.route("")
class Clients(MethodView):
    @admin_blp.doc(security=SECURITY)
    @auth_required
    @admin_blp.response(200, ClientSchema(many=True))
    def get(self):
        """The client systems, their scopes and whether revoked."""
        _require_admin()
        return service.list_clients(db_session(), current_principal())

    @admin_blp.doc(security=SECURITY)
    @auth_required
    @admin_blp.arguments(ClientInSchema)
    @admin_blp.response(201, IssuedKeySchema)
    def post(self, body):
        """Issue a client system its API key (shown once; stored hashed)."""
        _require_admin()
        key = service.issue_client(db_session(), body["name"], body["scopes"],
                                   display_name=body["display_name"], actor=current_principal())
        return {"name": body["name"], "api_key": key}


@admin_blp.route("/<name>")
class Client(MethodView):
    @admin_blp.doc(security=SECURITY)
    @auth_required
    @admin_blp.response(204)
    def delete(self, name: str):
        """Revoke a client: its keys stop working at once."""
        _require_admin()
        service.revoke_client(db_session(), name, runtime().redis, actor=current_principal())
