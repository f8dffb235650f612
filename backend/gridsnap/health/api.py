"""GET /health: PostgreSQL, Redis and the follow-up backlog, for load balancers and operators."""

from __future__ import annotations

from flask import jsonify
from flask.views import MethodView
from rq import Worker
from sqlalchemy import text

from .. import clock
from ..deadlines.rules import HolidaysFileError
from ..deadlines.schemas import CalendarCoverageSchema
from ..deadlines.service import calendar_report
from ..edge import Blueprint
from ..extensions import db_session, runtime, settings

# below this, the photo store is reported not ok (uploads would soon fail with 503)
MIN_FREE_BYTES = 1 << 30

blp = Blueprint("health", __name__, url_prefix="/health", description="Service health")


@blp.route("")
class Health(MethodView):
    @blp.doc(responses={"200": {"description": "All is well."},
                        "503": {"description": "A dependency is down."}})
    def get(self):
        """Checks PostgreSQL (with PostGIS), Redis (and how many RQ workers it knows) and the
        free space of the photo store; reports the outbox backlog. 503 when PostgreSQL or the
        photo store cannot take reports; Redis down only delays the follow-up ("degraded").
        The calendar's coverage (as GET /calendar) is reported too: its warnings (a year in
        use without official holiday data) are listed in `warnings` and leave the status as
        it is — deadlines are estimated, nothing is refused."""
        checks: dict = {}
        ok = True
        try:
            row = db_session().execute(text("""
                SELECT postgis_lib_version() AS postgis,
                       (SELECT count(*) FROM outbox WHERE done_at IS NULL AND failed_at IS NULL
                          AND (available_at IS NULL OR available_at <= :now)) AS pending,
                       (SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL) AS failed
            """), {"now": clock.now()}).mappings().one()
            checks["postgres"] = {"ok": True, "postgis": row["postgis"]}
            checks["outbox"] = {"pending": row["pending"], "failed": row["failed"]}
        except Exception as exc:  # report, don't raise: this endpoint must answer
            ok = False
            checks["postgres"] = {"ok": False, "error": type(exc).__name__}
        try:
            redis = runtime().redis
            redis.ping()
            checks["redis"] = {"ok": True, "workers": Worker.count(connection=redis)}
        except Exception as exc:
            # Redis down degrades follow-up (jobs wait in the outbox), not intake.
            checks["redis"] = {"ok": False, "error": type(exc).__name__}
        try:
            free = runtime().storage.free_bytes()
            checks["storage"] = {"ok": free is None or free >= MIN_FREE_BYTES,
                                 "free_bytes": free}
        except OSError as exc:
            checks["storage"] = {"ok": False, "error": type(exc).__name__}
        warnings: list[str] = []
        if checks["postgres"]["ok"]:
            try:
                checks["calendar"] = CalendarCoverageSchema().dump(
                    calendar_report(db_session(), settings(), clock.now()))
                warnings += checks["calendar"]["warnings"]
            except HolidaysFileError as exc:
                checks["calendar"] = {"ok": False, "error": str(exc)}
                warnings.append(str(exc))
            except Exception as exc:
                checks["calendar"] = {"ok": False, "error": type(exc).__name__}
        ok = ok and checks["storage"]["ok"]
        status = "ok" if ok and checks["redis"]["ok"] else ("degraded" if ok else "down")
        resp = jsonify({"status": status, "checks": checks, "warnings": warnings})
        resp.status_code = 200 if ok else 503
        return resp
