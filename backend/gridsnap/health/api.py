"""GET /health: PostgreSQL, Redis and the follow-up backlog, for load balancers and operators."""

from __future__ import annotations

from flask import jsonify
from flask.views import MethodView
from sqlalchemy import text

from ..edge import Blueprint
from ..extensions import db_session, runtime

blp = Blueprint("health", __name__, url_prefix="/health", description="Service health")


@blp.route("")
class Health(MethodView):
    @blp.doc(responses={"200": {"description": "All is well."},
                        "503": {"description": "A dependency is down."}})
    def get(self):
        """Checks PostgreSQL (with PostGIS) and Redis; reports the outbox backlog."""
        checks: dict = {}
        ok = True
        try:
            row = db_session().execute(text("""
                SELECT postgis_lib_version() AS postgis,
                       (SELECT count(*) FROM outbox WHERE done_at IS NULL AND failed_at IS NULL
                          AND (available_at IS NULL OR available_at <= now())) AS pending,
                       (SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL) AS failed
            """)).mappings().one()
            checks["postgres"] = {"ok": True, "postgis": row["postgis"]}
            checks["outbox"] = {"pending": row["pending"], "failed": row["failed"]}
        except Exception as exc:  # report, don't raise: this endpoint must answer
            ok = False
            checks["postgres"] = {"ok": False, "error": type(exc).__name__}
        try:
            runtime().redis.ping()
            checks["redis"] = {"ok": True}
        except Exception as exc:
            # Redis down degrades follow-up (jobs wait in the outbox), not intake.
            checks["redis"] = {"ok": False, "error": type(exc).__name__}
        status = "ok" if ok and checks["redis"]["ok"] else ("degraded" if ok else "down")
        resp = jsonify({"status": status, "checks": checks})
        resp.status_code = 200 if ok else 503
        return resp
