"""Reports: PUT by the client's id (idempotent), GET one, list with filters."""

from __future__ import annotations

import uuid

from flask.views import MethodView

from ..cases.schemas import ReportDetailSchema, ReportOutSchema
from ..edge import Blueprint
from ..extensions import db_session, settings
from ..users.auth import SECURITY, auth_required, current_principal
from . import service
from .schemas import ReportInSchema, ReportQuerySchema

blp = Blueprint("reports", __name__, url_prefix="/reports",
                description="Reports from the field (信息采集)")


@blp.route("")
class ReportList(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, ReportDetailSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, query, pagination_parameters):
        """The reports you may see: newest first, or by last change with updated_since."""
        p = pagination_parameters
        items, p.item_count = service.list_reports(
            db_session(), current_principal(), page=p.page, page_size=p.page_size,
            bbox=query.get("bbox"), statuses=query.get("status"),
            category=query.get("category"), area_prefix=query.get("cell"),
            updated_since=query.get("updated_since"))
        return items


@blp.route("/<uuid:report_id>")
class ReportResource(MethodView):
    @blp.doc(security=SECURITY, responses={
        "200": {"description": "An identical replay: the report as recorded."},
        "409": {"description": "report.id_conflict: this id is taken by other content."}})
    @auth_required
    @blp.arguments(ReportInSchema)
    @blp.response(201, ReportOutSchema)
    def put(self, body, report_id: uuid.UUID):
        """Submit a report under the id the phone made; a replay is harmless."""
        result = service.submit_report(db_session(), current_principal(), report_id, body,
                                       settings())
        if result.created:
            return result.report
        return result.report, 200

    @blp.doc(security=SECURITY)
    @blp.response(200, ReportDetailSchema)
    @auth_required
    def get(self, report_id: uuid.UUID):
        """One report with its cell, area chain and photos."""
        return service.get_report(db_session(), current_principal(), report_id)
