"""The application factory."""

from __future__ import annotations

import logging

import swagger_ui_bundle
from flask import Flask, g, jsonify, send_from_directory

from . import __version__
from .campaigns.api import blp as campaigns_blp
from .cases.api import blp as cases_blp
from .cases.api import me_blp as tasks_blp
from .categories.api import blp as categories_blp
from .errors import register_error_handlers
from .exports.api import blp as exports_blp
from .extensions import Runtime, api
from .grid.api import blp as grid_blp
from .health.api import blp as health_blp
from .maps.api import blp as maps_blp
from .maps.rules import basemap_view
from .notifications.api import blp as notifications_blp
from .photos.api import blp as photos_blp
from .photos.api import uploads_blp
from .reports.api import blp as reports_blp
from .routing.api import blp as routing_blp
from .settings import Settings
from .stats.api import blp as stats_blp
from .users.api import admin_blp as admin_users_blp
from .users.api import blp as auth_blp
from .web.api import blp as web_blp


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Flask:
    """The Flask app; `runtime` (engine, Redis, photo storage) is made from `settings` (or the
    environment) unless given — tests and benchmarks pass their own."""
    if runtime is None:
        runtime = Runtime(settings or Settings.from_env())
    settings = runtime.settings
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
        MAX_CONTENT_LENGTH=settings.photo_max_bytes + 64 * 1024,
        JSON_SORT_KEYS=False,
    )
    app.json.ensure_ascii = False
    app.extensions["gridsnap"] = runtime
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    api.init_app(app)
    register_error_handlers(app)  # after the Api, so ours answer every error

    for blp in (auth_blp, reports_blp, photos_blp, uploads_blp, cases_blp, tasks_blp,
                notifications_blp, routing_blp, maps_blp, stats_blp, campaigns_blp, exports_blp, grid_blp,
                categories_blp, admin_users_blp, health_blp):
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
                       basemap=basemap_view(settings))

    app.register_blueprint(web_blp)  # last: its catch-all route must not shadow the API

    @app.teardown_appcontext
    def _close_session(exc):
        session = g.pop("db", None)
        if session is not None:
            session.close()

    return app
