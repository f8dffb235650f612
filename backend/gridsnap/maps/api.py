"""Vector tiles of the cases for the command centre's live map."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from ..cases.rules import SOURCES, STATUSES
from ..edge import Blueprint
from ..extensions import read_session
from ..schemas import AwareDateTime
from ..users.auth import SECURITY, auth_required, current_principal
from . import service

blp = Blueprint("maps", __name__, url_prefix="/tiles", description="The live map (vector tiles)")


class TileQuerySchema(Schema):
    status = fields.List(fields.String(validate=validate.OneOf(STATUSES)))
    category = fields.String(validate=validate.Length(max=8))
    source = fields.String(validate=validate.OneOf(SOURCES))
    department = fields.String(validate=validate.Length(max=40))
    overdue = fields.Boolean()
    area = fields.String(validate=validate.Regexp(r"^[0-9]{1,15}$"))
    received_from = AwareDateTime(data_key="from")
    received_to = AwareDateTime(data_key="to")


@blp.route("/cases/<int:z>/<int:x>/<int:y>.mvt")
class CaseTile(MethodView):
    @blp.doc(security=SECURITY, responses={"200": {
        "description": "A Mapbox Vector Tile: layers cases (z ≥ 14), cells (12–13), areas "
                       "(< 12), grid (z ≥ 13).",
        "content": {"application/vnd.mapbox-vector-tile": {}}}})
    @auth_required
    @blp.arguments(TileQuerySchema, location="query")
    def get(self, query, z: int, x: int, y: int):
        """A tile of the cases you may see: points up close, counts per cell or area further
        out; open cases unless `status` says otherwise."""
        data = service.tile(read_session(), current_principal(), z, x, y, query)
        resp = Response(data, mimetype="application/vnd.mapbox-vector-tile")
        resp.headers["Cache-Control"] = "private, max-age=5"  # live: a few seconds at most
        return resp
