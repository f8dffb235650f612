"""The grid over HTTP: which cell a point is in, and the cells in a box as GeoJSON."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from ..edge import Blueprint
from ..errors import AppError
from ..extensions import db_session
from ..users.auth import SECURITY, auth_required
from . import service
from .schemas import CellLocateQuerySchema, CellsQuerySchema, LocatedSchema, parse_bbox

blp = Blueprint("grid", __name__, url_prefix="/cells", description="The grid (单元网格)")


@blp.route("/locate")
class Locate(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(CellLocateQuerySchema, location="query")
    @blp.response(200, LocatedSchema)
    def get(self, query):
        """The cell a point falls in (lowest code on a shared edge) and its area chain."""
        return service.locate_point(db_session(), query["lon"], query["lat"])


@blp.route("")
class Cells(MethodView):
    @blp.doc(security=SECURITY, responses={"200": {
        "description": "A GeoJSON FeatureCollection.",
        "content": {"application/geo+json": {"schema": {"type": "object"}}}}})
    @auth_required
    @blp.arguments(CellsQuerySchema, location="query")
    def get(self, query):
        """The areas of one level (cells by default) in a box, as GeoJSON."""
        if "bbox" not in query and not query["prefix"]:
            raise AppError("request.invalid", "Give a bbox, a prefix, or both.",
                           {"bbox": ["Required without a prefix."]})
        try:
            bbox = parse_bbox(query["bbox"]) if "bbox" in query else (-180, -90, 180, 90)
        except Exception as exc:  # marshmallow ValidationError from parse_bbox
            raise AppError("request.invalid", str(getattr(exc, "messages", exc)),
                           {"bbox": ["minlon,minlat,maxlon,maxlat"]}) from None
        features = service.areas_in_box(db_session(), bbox, level=query["level"],
                                        prefix=query["prefix"])
        resp = current_app.response_class(
            current_app.json.dumps({"type": "FeatureCollection", "features": features}),
            mimetype="application/geo+json")
        return resp
