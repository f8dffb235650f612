"""Photos once they are here: GET a size the caller may see, mark one public. They arrive
through uploads/ (the PUT of their bytes, or tus at /uploads/)."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from flask import Response, request, send_file
from flask.views import MethodView

from ..edge import Blueprint
from ..extensions import db_session, runtime, settings
from ..users.auth import SECURITY, auth_required, current_principal
from . import service
from .schemas import PhotoOutSchema, PhotoSizeQuery

blp = Blueprint("photos", __name__, description="Photos of reports")


@blp.route("/photos/<uuid:photo_id>")
class PhotoFile(MethodView):
    @blp.doc(security=SECURITY, responses={"200": {
        "description": "The image.", "content": {"image/jpeg": {}, "image/png": {},
                                                 "image/webp": {}}},
        "302": {"description": "With the photos in an object store and "
                               "GRIDSNAP_PHOTO_DELIVERY=redirect: Location is a presigned URL "
                               "of the image, valid for GRIDSNAP_PHOTO_URL_SECONDS."}})
    @auth_required
    @blp.arguments(PhotoSizeQuery, location="query")
    def get(self, query, photo_id: uuid.UUID):
        """A photo: thumb or display (JPEG, EXIF stripped), if you may see its case; the
        original (with its EXIF, as an attachment) only for the uploader, admins and the
        supervisors of its area — others get 404 and ask for the display size."""
        key, content_type, etag = service.photo_file(db_session(), current_principal(),
                                                     photo_id, query["size"])
        # the original: the uploaded bytes, EXIF and all: saved, never shown inline
        disposition = (f'attachment; filename="{photo_id}-original"'
                       if query["size"] == "original" else None)
        if request.if_none_match and etag in request.if_none_match:
            resp = Response(status=304)
        else:
            resp = stored_photo(key, content_type, disposition)
        resp.set_etag(etag)
        if disposition:
            resp.headers["Content-Disposition"] = disposition
        # content-addressed: a given URL+size never changes; private to the logged-in user
        resp.headers["Cache-Control"] = "private, max-age=31536000, immutable"
        return resp


@blp.route("/photos/<uuid:photo_id>/public")
class PhotoPublic(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.response(200, PhotoOutSchema)
    def put(self, photo_id: uuid.UUID):
        """Mark the photo public (公开): Open311 shows it (its display size, EXIF-free) as the
        request's media_url. A photo is private until then. Supervisors of the case's area
        and admins."""
        return service.set_public(db_session(), current_principal(), photo_id, True)

    @blp.doc(security=SECURITY)
    @auth_required
    @blp.response(200, PhotoOutSchema)
    def delete(self, photo_id: uuid.UUID):
        """Make the photo private again: Open311 no longer shows it."""
        return service.set_public(db_session(), current_principal(), photo_id, False)


def stored_photo(key: str, content_type: str, disposition: str | None = None) -> Response:
    """The stored object `key` as the answer, its bytes never through Python when the store
    is an object store: a presigned GET, lasting GRIDSNAP_PHOTO_URL_SECONDS, that the front
    server fetches (X-Accel-Redirect to its internal /_photo_store/ location,
    deploy/nginx/gridsnap.conf.tmpl) or, with GRIDSNAP_PHOTO_DELIVERY=redirect, the client
    (302). Who may see the photo was decided before: the URL is made only for them."""
    storage = runtime().storage
    path = storage.path_for(key)
    if path is not None:
        return send_file(path, mimetype=content_type, conditional=False)
    url = storage.url_for(key, expires_s=settings().photo_url_seconds,
                          content_type=content_type, disposition=disposition)
    if url is None:  # a store with neither files nor URLs
        return Response(storage.get(key), mimetype=content_type)
    if settings().photo_delivery == "redirect":
        resp = Response(status=302)
        resp.headers["Location"] = url
        return resp
    parts = urlsplit(url)
    resp = Response(status=200, mimetype=content_type)
    resp.headers["X-Accel-Redirect"] = f"{PHOTO_STORE_LOCATION}{parts.path.lstrip('/')}" + (
        f"?{parts.query}" if parts.query else "")
    return resp


# the front server's internal location that reads from the object store (X-Accel-Redirect)
PHOTO_STORE_LOCATION = "/_photo_store/"
