"""Photos: PUT the raw bytes under the client's photo id; GET a size the caller may see."""

from __future__ import annotations

import uuid

from flask import Response, request, send_file
from flask.views import MethodView

from ..auth import SECURITY, auth_required, current_principal
from ..edge import Blueprint
from ..errors import AppError
from ..extensions import db_session, runtime, settings
from . import service
from .schemas import PhotoOutSchema, PhotoPutQuery, PhotoSizeQuery

blp = Blueprint("photos", __name__, description="Photos of reports")


@blp.route("/reports/<uuid:report_id>/photos/<uuid:photo_id>")
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


@blp.route("/photos/<uuid:photo_id>")
class PhotoFile(MethodView):
    @blp.doc(security=SECURITY, responses={"200": {
        "description": "The image.", "content": {"image/jpeg": {}, "image/png": {},
                                                 "image/webp": {}}}})
    @auth_required
    @blp.arguments(PhotoSizeQuery, location="query")
    def get(self, query, photo_id: uuid.UUID):
        """A photo: thumb or display (JPEG, EXIF stripped), if you may see its case; the
        original (with its EXIF, as an attachment) only for the uploader, admins and the
        supervisors of its area — others get 404 and ask for the display size."""
        key, content_type, etag = service.photo_file(db_session(), current_principal(),
                                                     photo_id, query["size"])
        storage = runtime().storage
        if request.if_none_match and etag in request.if_none_match:
            resp = Response(status=304)
        else:
            path = storage.path_for(key)
            if path is not None:
                resp = send_file(path, mimetype=content_type, conditional=False)
            else:
                resp = Response(storage.get(key), mimetype=content_type)
        resp.set_etag(etag)
        if query["size"] == "original":
            # the uploaded bytes, EXIF and all: saved, never shown inline
            resp.headers["Content-Disposition"] = f'attachment; filename="{photo_id}-original"'
        # content-addressed: a given URL+size never changes; private to the logged-in user
        resp.headers["Cache-Control"] = "private, max-age=31536000, immutable"
        return resp
