"""Exports over HTTP: files streamed as they are written."""

from __future__ import annotations

from flask import Response, stream_with_context
from flask.views import MethodView

from ..edge import Blueprint
from ..extensions import db_session, read_session, read_sessions, runtime, settings
from ..patrols.schemas import TableQuerySchema
from ..stats.schemas import CallTakerQuerySchema, IndicatorQuerySchema, RankingQuerySchema
from ..users.auth import SECURITY, auth_required, current_principal
from . import service
from .schemas import CaseExportQuerySchema

blp = Blueprint("exports", __name__, url_prefix="/exports",
                description="Exports: cases (CSV, XLSX, GeoJSON), indicator, patrol and "
                            "call-taker tables and the 考评 ranking (CSV, XLSX)")


def _send(export: service.Export) -> Response:
    return Response(stream_with_context(export.chunks), content_type=export.media_type, headers={
        "Content-Disposition": f'attachment; filename="{export.filename}"',
        "Cache-Control": "no-store"})


_FILE = {"200": {"description": "The file, streamed."},
         "422": {"description": "request.invalid; export.too_many_rows (XLSX)"}}


@blp.route("/cases.<any(csv, xlsx, geojson):fmt>")
class CaseExport(MethodView):
    @blp.doc(security=SECURITY, responses={
        **_FILE, "403": {"description": "export.callers_forbidden: with_callers by anyone "
                                        "but an admin."}})
    @auth_required
    @blp.arguments(CaseExportQuerySchema, location="query")
    def get(self, query, fmt: str):
        """The cases you may see, with the case list's filters: CSV (UTF-8 with BOM, Chinese
        headers), XLSX (at most 200,000 rows) or GeoJSON points; every row with its grid codes.
        Callers' personal data only with with_callers=true, by an admin, on the audit trail."""
        if query.get("with_callers"):
            # it writes the audit trail first, and reads the cases it audited: the primary
            session, sessions = db_session(), runtime().sessions
        else:
            session, sessions = read_session(), read_sessions()
        return _send(service.export_cases(session, sessions, current_principal(), settings(),
                                          fmt, query))


@blp.route("/indicators.<any(csv, xlsx):fmt>")
class IndicatorExport(MethodView):
    @blp.doc(security=SECURITY, responses=_FILE)
    @auth_required
    @blp.arguments(IndicatorQuerySchema, location="query")
    def get(self, query, fmt: str):
        """The indicator table of /stats/indicators (same parameters) with its total row."""
        return _send(service.export_indicators(read_session(), current_principal(), settings(),
                                               fmt, query))


@blp.route("/patrols.<any(csv, xlsx):fmt>")
class PatrolExport(MethodView):
    @blp.doc(security=SECURITY, responses=_FILE)
    @auth_required
    @blp.arguments(TableQuerySchema, location="query")
    def get(self, query, fmt: str):
        """The patrol table of /patrols/table (same parameters) with its total row: 巡查覆盖率,
        巡查次数, hours and km, cells not walked; or per worker."""
        return _send(service.export_patrols(read_session(), current_principal(), settings(),
                                            fmt, query))


@blp.route("/call-takers.<any(csv, xlsx):fmt>")
class CallTakerExport(MethodView):
    @blp.doc(security=SECURITY, responses=_FILE)
    @auth_required
    @blp.arguments(CallTakerQuerySchema, location="query")
    def get(self, query, fmt: str):
        """The hotline's figures per call-taker of /stats/call-takers (same parameters) with
        the total row: calls taken, average handling time, callbacks made and reached."""
        return _send(service.export_call_takers(read_session(), current_principal(),
                                                settings(), fmt, query))


@blp.route("/ranking.<any(csv, xlsx):fmt>")
class RankingExport(MethodView):
    @blp.doc(security=SECURITY, responses=_FILE)
    @auth_required
    @blp.arguments(RankingQuerySchema, location="query")
    def get(self, query, fmt: str):
        """The monthly 考评 ranking of /stats/ranking (same parameters): rank, last month's rank
        and the movement, the area's or unit's names in Chinese and English, the score, the
        three rates, requests per 10,000 residents, the counts they rest on."""
        return _send(service.export_ranking(read_session(), current_principal(), settings(),
                                            fmt, query))
