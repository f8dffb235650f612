"""Disputes (矛盾纠纷) over HTTP: PUT by the phone's id, read, work the steps, the figures."""

from __future__ import annotations

import uuid

from flask.views import MethodView

from ..edge import Blueprint
from ..extensions import db_session, settings
from ..users.auth import SECURITY, auth_required, current_principal
from . import service
from .schemas import (
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
