"""The application factory."""

from __future__ import annotations

import contextlib
import logging
import os

import swagger_ui_bundle
from flask import Flask, g, jsonify, request, send_from_directory
from werkzeug.middleware.proxy_fix import ProxyFix

from . import __version__, clock
from . import models as _models  # noqa: F401 (every table known to the sessions)
from .campaigns.api import blp as campaigns_blp
from .cases import rules as case_rules
from .cases.api import blp as cases_blp
from .cases.api import me_blp as tasks_blp
from .cases.api import notices_blp
from .catalogue.api import blp as catalogue_blp
from .categories.api import blp as categories_blp
from .db import end_read_only
from .deadlines.service import ANNOUNCED_ENV, calendar_of, log_missing_years
from .disputes.api import blp as disputes_blp
from .edge import init_edge, own_transactions
from .errors import AppError, register_error_handlers
from .exports.api import blp as exports_blp
from .extensions import Runtime, api
from .grid.api import blp as grid_blp
from .health.api import blp as health_blp
from .health.api import calendar_blp
from .hotline import rules as hotline_rules
from .hotline.api import blp as hotline_blp
from .maps.api import blp as maps_blp
from .maps.rules import basemap_origins, basemap_view
from .notifications.api import blp as notifications_blp
from .open311 import api as open311_api
from .open311 import rules as open311_rules
from .open311.api import admin_blp as admin_open311_blp
from .open311.api import blp as open311_blp
from .patrols.api import blp as patrols_blp
from .photos.api import blp as photos_blp
from .reports.api import blp as reports_blp
from .routing.api import blp as routing_blp
from .settings import Settings
from .stats.api import blp as stats_blp
from .stats.rules import ranking_weights_of, weights_of
from .uploads.api import blp as uploads_blp
from .users.api import admin_blp as admin_users_blp
from .users.api import blp as auth_blp
from .web.api import blp as web_blp

log = logging.getLogger(__name__)


def _check_weights(settings: Settings) -> None:
    """GRIDSNAP_INDICATOR_WEIGHTS may name only rates, GRIDSNAP_RANKING_WEIGHTS only the three
    rates (docs/indicators.md): refuse to start."""
    try:
        weights_of(settings.indicator_weights)
        ranking_weights_of(settings.ranking_weights)
    except ValueError as exc:
        raise SystemExit(f"gridsnap: {exc}") from None


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Flask:
    """The Flask app; `runtime` (engine, Redis, photo storage) is made from `settings` (or the
    environment) unless given — tests and benchmarks pass their own."""
    if runtime is None:
        runtime = Runtime(settings or Settings.from_env())
    settings = runtime.settings
    _check_weights(settings)
    app = Flask(__name__, static_folder=None)
    app.config.update(
        API_TITLE="gridsnap",
        API_VERSION=__version__,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/api/v1/docs/static/",
        API_SPEC_OPTIONS={
            "info": {"description": "gridsnap API: grid management reports, photos and cases."},
            "components": {"securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"}}},
        },
        # photos are the largest bodies; anything bigger is refused before it is read
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        JSON_SORT_KEYS=False,
    )
    app.json.ensure_ascii = False
    if settings.trusted_proxies:
        # the client's address (login throttling) from X-Forwarded-For, as set by our proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies,
                                x_proto=settings.trusted_proxies)
    app.extensions["gridsnap"] = runtime
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # reads the holidays file: a bad one stops the start here
    log_missing_years(settings, announced=os.environ.get(ANNOUNCED_ENV) == "1")

    api.init_app(app)
    register_error_handlers(app)  # after the Api, so ours answer every error
    init_edge(app)

    for blp in (auth_blp, reports_blp, photos_blp, uploads_blp, cases_blp, tasks_blp,
                notifications_blp, routing_blp, maps_blp, stats_blp, campaigns_blp, exports_blp,
                grid_blp, categories_blp, admin_users_blp, health_blp, hotline_blp,
                admin_open311_blp, notices_blp, calendar_blp, disputes_blp,
                patrols_blp, catalogue_blp):
        api.register_blueprint(blp, url_prefix=f"/api/v1{blp.url_prefix or ''}")

    @app.get("/api/v1/docs/static/<path:filename>")
    def swagger_ui_static(filename: str):
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)

    @app.get("/api/v1")
    def api_index():
        # the deployment's time zone: clients show times and day boundaries in it; evidence: when
        # a photo's EXIF time or place is too far from its report's, the apps flag it
        return jsonify(name="gridsnap", version=__version__, api="/api/v1",
                       docs="/api/v1/docs", health="/api/v1/health",
                       timezone=settings.timezone,
                       evidence={"max_age_hours": settings.photo_exif_warn_age_hours,
                                 "max_distance_m": settings.photo_exif_warn_distance_m},
                       # 退单审核 and 挂账: how this city runs them (the apps offer what fits)
                       cases={"return_review": settings.return_review,
                              "suspended_leave_due": settings.suspended_leave_due,
                              "suspension_max_days": settings.suspension_max_days,
                              # the vocabulary the apps need, from its owner (never typed again)
                              "open_statuses": list(case_rules.OPEN_STATUSES),
                              "actions": {name: {"note": a.needs_note, "photo": a.needs_photo}
                                          for name, a in case_rules.ACTIONS.items()
                                          if name in case_rules.HUMAN_ACTIONS}},
                       hotline={"sources": list(case_rules.SOURCES),
                                "unmasked_roles": sorted(hotline_rules.UNMASKED_ROLES)},
                       # the limits the phone checks before it sends (offline too): the same
                       # settings the server enforces, never typed again in the apps
                       limits={"verify_distance_m": settings.verify_distance_m,
                               "photo_max_bytes": settings.photo_max_bytes},
                       basemap=basemap_view(settings), tile_origins=basemap_origins(settings),
                       calendar=calendar_facts())

    def calendar_facts() -> dict:
        # this year and the next: whether their deadlines follow an official holiday notice
        # (the coverage of the deadlines in use: GET /api/v1/calendar, /api/v1/health)
        cal = calendar_of(settings)
        year = clock.now().astimezone(cal.zone).year
        return {"years": [{"year": y, "official": cal.covers(y)} for y in (year, year + 1)],
                "coverage": "/api/v1/calendar"}

    @app.before_request
    def _whole_json_body():
        # A JSON body shorter than its Content-Length (the client half-closed) is refused
        # before it is parsed: a cut-off body can still be valid JSON. Flask caches the bytes,
        # so reading them here costs nothing more. Photos check their own (uploads/api.py).
        length = request.content_length
        if length and request.is_json:
            got = len(request.get_data(cache=True))
            if got != length:
                raise AppError("request.incomplete_body",
                               f"{got} of {length} bytes arrived; send the request again.")

    app.register_blueprint(open311_blp)  # GeoReport v2: the spec's formats, not OpenAPI
    # its test endpoint, as discovery lists it: the same reads, a POST that files nothing
    app.register_blueprint(open311_blp, name=open311_api.TEST_BLUEPRINT,
                           url_prefix=open311_blp.url_prefix + open311_rules.TEST_PATH)

    app.register_blueprint(web_blp)  # last: its catch-all route must not shadow the API
    own_transactions(app)  # every view: one transaction, committed at the edge

    @app.after_request
    def _read_source(resp):
        # a heavy read (extensions.read_session) says where it was answered from and how
        # stale it may be: replica and its lag bound in seconds, or primary and 0
        route = g.get("read_route")
        if route is not None:
            resp.headers["X-Gridsnap-Read-From"] = route.source
            resp.headers["X-Gridsnap-Read-Lag"] = f"{route.lag_s:.3f}"
        return resp

    @app.teardown_appcontext
    def _close_session(exc):
        # never raises: an exception here would reach gunicorn, which answers with its own
        # HTML page; a connection that cannot even be closed is thrown away instead
        for name in ("db", "read_db"):
            session = g.pop(name, None)
            if session is None:
                continue
            try:
                end_read_only(session)
                session.close()
            except Exception:
                log.warning("closing the request's database session failed", exc_info=True)
                with contextlib.suppress(Exception):
                    session.invalidate()

    return app
