"""GET /health: PostgreSQL, Redis and the follow-up backlog, for load balancers and operators;
GET /calendar: whether the working calendar covers the deadlines in use."""

from __future__ import annotations

from flask import jsonify
from flask.views import MethodView
from rq import Worker

from .. import clock
from ..deadlines.rules import HolidaysFileError
from ..deadlines.schemas import CalendarCoverageSchema
from ..edge import Blueprint
from ..extensions import db_session, runtime, settings
from ..users.auth import SECURITY, auth_required
from . import service

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
            row = service.database_facts(db_session(), clock.now())
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
                    service.calendar_coverage(db_session(), settings(), clock.now()))
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


calendar_blp = Blueprint("calendar", __name__, url_prefix="/calendar",
                         description="The working calendar (holidays and 调休) and its coverage")


@calendar_blp.route("")
class CalendarCoverage(MethodView):
    @calendar_blp.doc(security=SECURITY)
    @auth_required
    @calendar_blp.response(200, CalendarCoverageSchema)
    def get(self):
        """Which years have official holiday data, and a warning when running deadlines, or
        a stage starting now under the longest configured limit, need a year that has none
        (the command centre shows it as a banner)."""
        return service.calendar_coverage(db_session(), settings(), clock.now())
