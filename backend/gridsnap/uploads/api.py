"""How a photo arrives: PUT the raw bytes under the client's photo id, or send them resumably
with tus 1.0.0 (core, creation, termination, expiration) at /uploads/. Either way
uploads.service stores the photo and marks its case changed."""

from __future__ import annotations

import uuid

from flask import Response, current_app, request
from flask.views import MethodView
from marshmallow import ValidationError
from werkzeug.exceptions import ClientDisconnected
from werkzeug.http import http_date

from ..edge import Blueprint
from ..errors import AppError
from ..extensions import db_session, runtime, settings
from ..photos.rules import TUS_EXTENSIONS, TUS_VERSION, MetadataError, parse_upload_metadata
from ..photos.schemas import PhotoOutSchema, PhotoPutQuery, UploadMetadataSchema
from ..users.auth import SECURITY, auth_required, current_principal
from . import service

# One blueprint for both ways in; the PUT is documented with the photos (tag "photos").
blp = Blueprint(
    "uploads", __name__,
    description="Resumable photo uploads: tus 1.0.0 (https://tus.io/protocols/resumable-upload) "
                "with the creation, termination and expiration extensions. Upload-Metadata "
                "binds an upload to report_id, photo_id, purpose and content_type (and "
                "exif_taken_at, exif_lon, exif_lat); its last byte adds the photo exactly as "
                "the PUT of /reports/{id}/photos/{photo_id} does.")
# the tus views: the protocol's version check and header are theirs, not the PUT's
_TUS_ENDPOINTS = frozenset({"uploads.Uploads", "uploads.Upload"})


@blp.route("/reports/<uuid:report_id>/photos/<uuid:photo_id>", tags=["photos"])
class ReportPhoto(MethodView):
    @blp.doc(security=SECURITY, requestBody={
        "required": True,
        "content": {t: {"schema": {"type": "string", "format": "binary"}}
                    for t in ("image/jpeg", "image/png", "image/webp")}})
    @auth_required
    @blp.arguments(PhotoPutQuery, location="query")
    @blp.response(201, PhotoOutSchema)
    @blp.alt_response(200, schema=PhotoOutSchema, description="An identical replay.")
    def put(self, query, report_id: uuid.UUID, photo_id: uuid.UUID):
        """Upload a photo's bytes (JPEG, PNG or WebP); idempotent by photo id."""
        limit = settings().photo_max_bytes
        if request.content_length is not None and request.content_length > limit:
            raise AppError("photo.too_large", f"The photo is larger than {limit} bytes.")
        content_type = (request.mimetype or "").lower()
        data = request.get_data(cache=False)
        if request.content_length is not None and len(data) != request.content_length:
            # the client went away mid-body (gunicorn hands over what came): store nothing,
            # or the honest retry with every byte would meet photo.id_conflict
            raise AppError("request.incomplete_body",
                           f"{len(data)} of {request.content_length} bytes arrived; "
                           "send the photo again.")
        photo, created = service.add_photo(
            db_session(), runtime().storage, settings(), current_principal(), report_id,
            photo_id, data, content_type, purpose=query["purpose"],
            device_exif=service.exif_from_query(query))
        return (photo, 201) if created else (photo, 200)


# --- tus 1.0.0 ------------------------------------------------------------------------------

_TUS_DOC = {"parameters": [{"in": "header", "name": "Tus-Resumable", "required": True,
                            "schema": {"type": "string", "enum": [TUS_VERSION]}}]}


@blp.before_request
def _tus_version():
    # every tus request but OPTIONS names the protocol version; another one is not processed
    if (request.endpoint in _TUS_ENDPOINTS and request.method != "OPTIONS"
            and request.headers.get("Tus-Resumable") != TUS_VERSION):
        raise AppError("upload.version_unsupported",
                       f"This server speaks tus {TUS_VERSION}: send 'Tus-Resumable: {TUS_VERSION}'.",
                       headers={"Tus-Version": TUS_VERSION})


@blp.after_request
def _tus_resumable(resp):
    if request.endpoint not in _TUS_ENDPOINTS:
        return resp
    resp.headers["Tus-Resumable"] = TUS_VERSION
    if resp.status_code < 400 and not resp.direct_passthrough and not resp.get_data():
        # no body (201, 204, HEAD's 200): no Flask default "text/html" for it either
        resp.headers.pop("Content-Type", None)
    return resp


def _tus_options() -> Response:
    resp = Response(status=204)
    resp.headers["Tus-Version"] = TUS_VERSION
    resp.headers["Tus-Extension"] = ",".join(TUS_EXTENSIONS)
    resp.headers["Tus-Max-Size"] = str(settings().photo_max_bytes)
    return resp


def _int_header(name: str, required: bool = True) -> int | None:
    raw = request.headers.get(name)
    if raw is None and not required:
        return None
    # tus: 1*DIGIT, ASCII only (str.isdigit also takes '²' and other digits int() refuses)
    if raw is None or not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise AppError("upload.bad_header", f"Send {name} as a whole number of bytes.",
                       {name: ["Missing." if raw is None else f"{raw!r} is not a whole number."]})
    return int(raw)


def _state_headers(resp: Response, state: dict) -> Response:
    resp.headers["Upload-Offset"] = str(state["offset"])
    resp.headers["Upload-Length"] = str(state["length"])
    if not state["completed"]:
        resp.headers["Upload-Expires"] = http_date(state["expires_at"])
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _body_chunks(size: int = 64 * 1024):
    """The request body as it arrives; a connection cut mid-body just ends it (tus: servers
    keep what a partial body brought)."""
    stream = request.stream
    while True:
        try:
            chunk = stream.read(size)
        except (ClientDisconnected, OSError):
            return
        if not chunk:
            return
        yield chunk


@blp.route("/uploads/")
class Uploads(MethodView):
    @blp.doc(summary="The server's tus capabilities",
                     responses={"204": {"description": "Tus-Version, Tus-Extension, Tus-Max-Size"}})
    def options(self):
        """tus discovery: versions, extensions and the largest upload (GRIDSNAP_PHOTO_MAX_BYTES)."""
        return _tus_options()

    @blp.doc(security=SECURITY, **_TUS_DOC, responses={
        "201": {"description": "Created; Location is the upload's URL."}})
    @auth_required
    def post(self):
        """Create an upload (tus creation): Upload-Length and Upload-Metadata."""
        length = request.headers.get("Upload-Length")
        if length is None and request.headers.get("Upload-Defer-Length") is not None:
            raise AppError("upload.bad_header", "Send Upload-Length: this server does not "
                           "take uploads of unknown length.", {"Upload-Defer-Length": ["Unsupported."]})
        length = _int_header("Upload-Length")
        if length == 0:
            raise AppError("request.invalid", "A photo has at least one byte.",
                           {"Upload-Length": ["Must be greater than 0."]})
        try:
            metadata = parse_upload_metadata(request.headers.get("Upload-Metadata", ""))
            binding = UploadMetadataSchema().load(metadata)
        except MetadataError as exc:
            raise AppError("upload.bad_header", str(exc), {"Upload-Metadata": [str(exc)]}) from None
        except ValidationError as exc:
            fields = {f"Upload-Metadata.{k}": v for k, v in exc.normalized_messages().items()}
            raise AppError("request.invalid", f"Invalid value for '{next(iter(fields))}'.",
                           fields) from None
        binding["content_type"] = binding["content_type"].lower()
        row = service.create_upload(db_session(), runtime().partials, settings(),
                                    current_principal(), length=length, binding=binding)
        resp = Response(status=201)
        resp.headers["Location"] = f"{request.script_root}/api/v1/uploads/{row['id']}"
        resp.headers["Upload-Expires"] = http_date(row["expires_at"])
        resp.headers["Upload-Offset"] = "0"
        return resp


@blp.route("/uploads/<uuid:upload_id>")
class Upload(MethodView):
    def dispatch_request(self, **kwargs):
        # tus: X-HTTP-Method-Override is the request's method (for proxies that know no PATCH)
        override = request.headers.get("X-HTTP-Method-Override")
        if request.method == "POST" and override:
            method = getattr(self, override.strip().lower(), None)
            if override.strip().upper() not in ("HEAD", "PATCH", "DELETE", "OPTIONS") or not method:
                raise AppError("request.method_not_allowed",
                               f"X-HTTP-Method-Override: {override} is not allowed here.")
            return current_app.ensure_sync(method)(**kwargs)
        return super().dispatch_request(**kwargs)

    @blp.doc(summary="The server's tus capabilities")
    def options(self, upload_id: uuid.UUID):
        """tus discovery, as on /uploads/."""
        return _tus_options()

    @blp.doc(security=SECURITY, **_TUS_DOC, responses={
        "200": {"description": "Upload-Offset: the bytes the server holds; Upload-Length"}})
    @auth_required
    def head(self, upload_id: uuid.UUID):
        """Where to resume: the upload's offset (tus core)."""
        state = service.upload_state(db_session(), runtime().storage, runtime().partials,
                                     settings(), current_principal(), upload_id)
        return _state_headers(Response(status=200), state)

    @blp.doc(security=SECURITY, **_TUS_DOC, requestBody={
        "required": True, "content": {"application/offset+octet-stream": {
            "schema": {"type": "string", "format": "binary"}}}},
        responses={"204": {"description": "Upload-Offset: the new offset"}})
    @auth_required
    def patch(self, upload_id: uuid.UUID):
        """Append bytes at Upload-Offset (tus core); the last byte adds the photo."""
        if request.mimetype != "application/offset+octet-stream":
            raise AppError("request.unsupported_media_type",
                           "Send the bytes as Content-Type: application/offset+octet-stream.",
                           {"Content-Type": [f"{request.mimetype or 'none'} is not accepted."]})
        offset = _int_header("Upload-Offset")
        state = service.append_upload(db_session(), runtime().storage, runtime().partials,
                                      settings(), current_principal(), upload_id, offset,
                                      _body_chunks(), request.content_length)
        return _state_headers(Response(status=204), state)

    @blp.doc(security=SECURITY, **_TUS_DOC, responses={"204": {"description": "Gone"}})
    @auth_required
    def delete(self, upload_id: uuid.UUID):
        """Stop an upload and drop its bytes (tus termination); a photo it added stays."""
        service.terminate_upload(db_session(), runtime().partials, current_principal(), upload_id)
        return Response(status=204)

    @blp.doc(summary="A tus request through X-HTTP-Method-Override")
    @auth_required
    def post(self, upload_id: uuid.UUID):
        """Only with X-HTTP-Method-Override (HEAD, PATCH or DELETE)."""
        raise AppError("request.method_not_allowed",
                       "POST here needs X-HTTP-Method-Override: PATCH, HEAD or DELETE.")
