"""Disputes (矛盾纠纷) over HTTP: PUT by the phone's id, read, work the steps, the figures."""

from __future__ import annotations

import uuid

from flask import Response, request, send_file
from flask.views import MethodView

from ..edge import Blueprint
from ..errors import AppError
from ..extensions import db_session, runtime, settings
from ..users.auth import SECURITY, auth_required, current_principal
from . import service
from .schemas import (
    AgreementPhotoQuerySchema,
    AgreementPhotoSchema,
    DisputeGetQuerySchema,
    DisputeInSchema,
    DisputeQuerySchema,
    DisputeSchema,
    FigureRowSchema,
    FiguresQuerySchema,
    StepInSchema,
)

blp = Blueprint("disputes", __name__, url_prefix="/disputes",
                description="矛盾纠纷: disputes reported from the field, mediated in confidence")


@blp.route("")
class Disputes(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(DisputeQuerySchema, location="query")
    @blp.response(200, DisputeSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=200)
    def get(self, query, pagination_parameters):
        """The disputes you reported, mediate or oversee, newest first (parties masked)."""
        p = pagination_parameters
        items, p.item_count = service.list_disputes(
            db_session(), current_principal(), statuses=query.get("status"),
            mine=query["mine"], steps=query["steps"], page=p.page, page_size=p.page_size)
        return items


@blp.route("/figures")
class DisputeFigures(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(FiguresQuerySchema, location="query")
    @blp.response(200, FigureRowSchema(many=True))
    def get(self, query):
        """排查数, 化解数, 化解率, 按期化解率, 转交数 by kind, street or community (counts only)."""
        return service.dispute_figures(db_session(), current_principal(), start=query["start"],
                                       end=query["end"], by=query["by"],
                                       area_prefix=query["area"])


@blp.route("/<uuid:dispute_id>")
class DisputeResource(MethodView):
    @blp.doc(security=SECURITY, responses={
        "200": {"description": "An identical replay: the dispute as recorded."},
        "409": {"description": "dispute.id_conflict: this id is taken by other content."}})
    @auth_required
    @blp.arguments(DisputeInSchema)
    @blp.response(201, DisputeSchema)
    def put(self, body, dispute_id: uuid.UUID):
        """Report a dispute under the id the phone made; a replay is harmless."""
        result = service.submit_dispute(db_session(), current_principal(), dispute_id, body,
                                        settings())
        return result.dispute if result.created else (result.dispute, 200)

    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(DisputeGetQuerySchema, location="query")
    @blp.response(200, DisputeSchema)
    def get(self, query, dispute_id: uuid.UUID):
        """The dispute and its trail; `unmasked=true` shows the parties (audited)."""
        return service.get_dispute(db_session(), current_principal(), dispute_id,
                                   unmasked=query["unmasked"])


@blp.route("/<uuid:dispute_id>/steps")
class DisputeSteps(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(StepInSchema)
    @blp.response(200, DisputeSchema)
    def post(self, body, dispute_id: uuid.UUID):
        """A step of mediation: accept 受理, hold_session 调解, agree 达成协议, transfer 转交
        (调解不成), follow_up 回访."""
        return service.take_step(db_session(), current_principal(), settings(), dispute_id,
                                 body)


_IMAGE_BODY = {"required": True, "content": {t: {"schema": {"type": "string", "format": "binary"}}
                                             for t in ("image/jpeg", "image/png", "image/webp")}}


@blp.route("/<uuid:dispute_id>/agreement-photos/<uuid:photo_id>")
class AgreementPhoto(MethodView):
    @blp.doc(security=SECURITY, requestBody=_IMAGE_BODY, responses={
        "409": {"description": "photo.id_conflict (this id holds other bytes), "
                               "dispute.not_agreed (no agreement yet), dispute.too_many_photos."},
        "413": {"description": "photo.too_large: past GRIDSNAP_PHOTO_MAX_BYTES."}})
    @auth_required
    @blp.response(201, AgreementPhotoSchema)
    @blp.alt_response(200, schema=AgreementPhotoSchema, description="An identical replay.")
    def put(self, dispute_id: uuid.UUID, photo_id: uuid.UUID):
        """A photo of the signed agreement (人民调解协议书), its raw bytes (JPEG, PNG or WebP)
        under the phone's photo id: the same photo again stores nothing twice. The dispute's
        mediators and 综治 office, once it is agreed; on its trail."""
        limit = settings().photo_max_bytes
        if request.content_length is not None and request.content_length > limit:
            raise AppError("photo.too_large", f"The photo is larger than {limit} bytes.")
        data = request.get_data(cache=False)
        if request.content_length is not None and len(data) != request.content_length:
            raise AppError("request.incomplete_body",
                           f"{len(data)} of {request.content_length} bytes arrived; "
                           "send the photo again.")
        photo, created = service.add_agreement_photo(
            db_session(), runtime().storage, settings(), current_principal(), dispute_id,
            photo_id, data, (request.mimetype or "").lower())
        return (photo, 201) if created else (photo, 200)

    @blp.doc(security=SECURITY, responses={"200": {
        "description": "The image: thumb and display are JPEGs without metadata; the original "
                       "(uploader and 综治 office only) as an attachment.",
        "content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}},
        "304": {"description": "Not modified (If-None-Match)."}})
    @auth_required
    @blp.arguments(AgreementPhotoQuerySchema, location="query")
    def get(self, query, dispute_id: uuid.UUID, photo_id: uuid.UUID):
        """An agreement photo of a dispute you may see (its reporter, its mediators, the
        street's 综治 office); anyone else is told there is no such dispute."""
        key, content_type, etag = service.agreement_photo_file(
            db_session(), current_principal(), dispute_id, photo_id, query["size"])
        if request.if_none_match and etag in request.if_none_match:
            resp = Response(status=304)
        else:
            resp = _stored(key, content_type)
        resp.set_etag(etag)
        if query["size"] == "original":
            resp.headers["Content-Disposition"] = f'attachment; filename="{photo_id}-original"'
        # private to the caller, asked again each time (a dispute is confidential: who may see
        # it can change), answered 304 while unchanged
        resp.headers["Cache-Control"] = "private, no-cache"
        return resp


def _stored(key: str, content_type: str) -> Response:
    """The stored object as the answer: a local file sent as it is; from an object store, its
    bytes (an agreement photo is small and rarely asked for; an outage is a 503)."""
    storage = runtime().storage
    path = storage.path_for(key)
    if path is not None:
        return send_file(path, mimetype=content_type, conditional=False)
    try:
        return Response(storage.get(key), mimetype=content_type)
    except OSError as exc:
        raise AppError("photo.storage_failed", "The photo store cannot answer now; try again "
                       "later.", headers={"Retry-After": "30"}) from exc
