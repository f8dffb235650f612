"""Patrols (按时巡) over HTTP: start, track batches, end, read; plans and the week's figures."""

from __future__ import annotations

import uuid

from flask import current_app
from flask.views import MethodView

from ..edge import Blueprint
from ..extensions import db_session, read_session, settings
from ..users.auth import SECURITY, auth_required, current_principal
from . import service
from .schemas import (
    BatchResultSchema,
    CoverageQuerySchema,
    FiguresQuerySchema,
    PatrolEndSchema,
    PatrolGetQuerySchema,
    PatrolQuerySchema,
    PatrolSchema,
    PatrolStartSchema,
    PatrolTableSchema,
    PlanInSchema,
    PlanSchema,
    TableQuerySchema,
    TrackBatchSchema,
    TracksQuerySchema,
    WeekFiguresSchema,
)

blp = Blueprint("patrols", __name__, url_prefix="/patrols",
                description="按时巡: patrols, their tracks and the coverage of the cells")


@blp.route("")
class Patrols(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(PatrolQuerySchema, location="query")
    @blp.response(200, PatrolSchema(many=True))
    def get(self, query):
        """Your patrols; a supervisor's: those of the workers they cover. Latest first."""
        return service.list_patrols(db_session(), current_principal(),
                                    worker_id=query.get("worker_id"), day=query.get("day"),
                                    settings=settings())


@blp.route("/plans")
class Plans(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.response(200, PlanSchema(many=True))
    def get(self):
        """The patrol plans of your area."""
        return service.list_plans(db_session(), current_principal())

    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(PlanInSchema)
    @blp.response(200, PlanSchema)
    def put(self, body):
        """Set the plan of an area: each cell under it walked N times a week (in a window)."""
        return service.set_plan(db_session(), current_principal(), body)


@blp.route("/plans/<int:plan_id>")
class PlanResource(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.response(204)
    def delete(self, plan_id: int):
        """Drop a plan of your area."""
        service.delete_plan(db_session(), current_principal(), plan_id)


@blp.route("/figures")
class Figures(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(FiguresQuerySchema, location="query")
    @blp.response(200, WeekFiguresSchema)
    def get(self, query):
        """巡查覆盖率, 巡查次数 and time per cell, distance and time per worker, plans met."""
        return service.week_figures(db_session(), current_principal(), settings(),
                                    area_prefix=query["area"], week=query["week"])


@blp.route("/table")
class Table(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(TableQuerySchema, location="query")
    @blp.response(200, PatrolTableSchema)
    def get(self, query):
        """巡查指标 of a period (a month, or from/to): per area of a level 巡查覆盖率, 巡查次数,
        hours and km inside its cells, cells not walked in `stale_days`; or per worker
        patrols, km, hours, cells walked, flagged; and the total (docs/indicators.md)."""
        return service.patrol_table(
            read_session(), current_principal(), settings(), group=query["group"],
            period=query.get("period"), first=query.get("from_"), last=query.get("to"),
            area=query.get("area"), stale_days=query["stale_days"])


_GEOJSON = {"200": {"description": "A GeoJSON FeatureCollection (RFC 7946).",
                    "content": {"application/geo+json": {"schema": {"type": "object"}}}}}


def _geojson(collection: dict):
    return current_app.response_class(current_app.json.dumps(collection),
                                      mimetype="application/geo+json")


@blp.route("/coverage")
class Coverage(MethodView):
    @blp.doc(security=SECURITY, responses=_GEOJSON)
    @auth_required
    @blp.arguments(CoverageQuerySchema, location="query")
    def get(self, query):
        """The cells of your scope as GeoJSON with their visits in the period: walked or not
        (the command centre's coverage layer)."""
        return _geojson(service.coverage_map(
            read_session(), current_principal(), settings(), period=query.get("period"),
            first=query.get("from_"), last=query.get("to"), area=query.get("area")))


@blp.route("/tracks")
class Tracks(MethodView):
    @blp.doc(security=SECURITY, responses=_GEOJSON)
    @auth_required
    @blp.arguments(TracksQuerySchema, location="query")
    def get(self, query):
        """A day's tracks as GeoJSON LineStrings: yours; a supervisor's, the workers they
        cover (personal data: never on a public surface)."""
        return _geojson(service.day_tracks(db_session(), current_principal(), settings(),
                                           day=query["day"]))


@blp.route("/<uuid:patrol_id>")
class PatrolResource(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(PatrolStartSchema)
    @blp.response(201, PatrolSchema)
    def put(self, body, patrol_id: uuid.UUID):
        """Start a patrol under the id the phone made (a replay is harmless)."""
        view, created = service.start_patrol(db_session(), current_principal(), patrol_id,
                                             body["started_at"], settings())
        return view if created else (view, 200)

    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(PatrolGetQuerySchema, location="query")
    @blp.response(200, PatrolSchema)
    def get(self, query, patrol_id: uuid.UUID):
        """The patrol, its cells and the reports made during it; `track=true` its track."""
        return service.get_patrol(db_session(), current_principal(), patrol_id,
                                  track=query["track"])


@blp.route("/<uuid:patrol_id>/points")
class PatrolPoints(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(TrackBatchSchema)
    @blp.response(200, BatchResultSchema)
    def post(self, body, patrol_id: uuid.UUID):
        """A batch of the track; points already received are skipped."""
        return service.add_points(db_session(), current_principal(), patrol_id,
                                  body["points"])


@blp.route("/<uuid:patrol_id>/end")
class PatrolEnd(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(PatrolEndSchema)
    @blp.response(200, PatrolSchema)
    def post(self, body, patrol_id: uuid.UUID):
        """End the patrol: its coverage and flags are computed."""
        return service.end_patrol(db_session(), current_principal(), patrol_id,
                                  body["ended_at"])
