"""GET /health: PostgreSQL, Redis and the follow-up backlog, for load balancers and operators;
GET /calendar: whether the working calendar covers the deadlines in use."""

from __future__ import annotations

import contextlib
import functools
import ipaddress

from flask import jsonify, request
from flask.views import MethodView
from rq import Worker

from .. import clock
from ..deadlines.rules import HolidaysFileError
from ..deadlines.schemas import CalendarCoverageSchema
from ..edge import Blueprint
from ..errors import AppError
from ..extensions import db_session, runtime, settings
from ..users import permissions
from ..users.auth import SECURITY, auth_required, current_principal
from . import service

blp = Blueprint("health", __name__, url_prefix="/health", description="Service health")


@blp.route("")
class Health(MethodView):
    @blp.doc(responses={"200": {"description": "All is well."},
                        "503": {"description": "PostgreSQL is down: no report can be taken."}})
    def get(self):
        """Up or down for anyone ({"status": "up"} 200, or "down" 503); the details below for
        an admin's bearer token or a request from this machine not relayed by a proxy.

        Checks PostgreSQL (with PostGIS), Redis (and how many RQ workers it knows) and the
        free space of the photo store; reports the outbox backlog. 503 "down" only when
        PostgreSQL cannot take reports. "degraded" (200), each cause in `reasons`: Redis down
        (the follow-up waits), the photo store with room for fewer than
        GRIDSNAP_STORAGE_LOW_PHOTOS photos at the limit (storage.low_space) or an object store
        that does not answer (storage.unavailable: photo uploads are 503 meanwhile), or follow-up postponed because a
        resource ran out (a full disk: it is retried with back-off until space returns).
        The calendar's coverage (as GET /calendar) is reported too: its warnings (a year in
        use without official holiday data) are listed in `warnings` and leave the status as
        it is — deadlines are estimated, nothing is refused."""
        checks: dict = {}
        ok = True
        facts = None
        now = clock.now()
        try:
            facts = service.database_facts(db_session(), settings(), now)
            checks["postgres"] = {"ok": True, "postgis": facts["postgis"]}
            checks["outbox"] = {"pending": facts["pending"], "failed": facts["failed"],
                                "postponed": facts["postponed"]}
        except Exception as exc:  # report, don't raise: this endpoint must answer
            ok = False
            checks["postgres"] = {"ok": False, "error": type(exc).__name__}
        if not _may_see_details():
            # a load balancer needs up or down (PostgreSQL takes reports or not), probing every
            # node every second: nothing else is asked of Redis or the photo store for it.
            # Versions, workers, free space and backlog would tell an outsider what to attack
            # and when.
            resp = jsonify({"status": "up" if ok else "down"})
            resp.status_code = 200 if ok else 503
            return resp
        try:
            # the count answers only when Redis does: no ping besides
            checks["redis"] = {"ok": True, "workers": Worker.count(connection=runtime().redis)}
        except Exception as exc:
            # Redis down degrades follow-up (jobs wait in the outbox), not intake.
            checks["redis"] = {"ok": False, "error": type(exc).__name__}
        low = settings().storage_low_bytes
        try:
            storage = runtime().storage
            reach = getattr(storage, "check", None)
            if reach is not None:
                reach()  # an object store (S3): its bucket answers
            free = storage.free_bytes()
            checks["storage"] = {"ok": free is None or free >= low, "free_bytes": free,
                                 "low_below_bytes": low}
        except OSError as exc:
            checks["storage"] = {"ok": False, "error": type(exc).__name__,
                                 "low_below_bytes": low}
        warnings: list[str] = []
        if facts is not None:
            try:
                checks["calendar"] = _dumped(service.coverage_of(settings(), now, facts))
                warnings += checks["calendar"]["warnings"]
            except HolidaysFileError as exc:
                checks["calendar"] = {"ok": False, "error": str(exc)}
                warnings.append(str(exc))
            except Exception as exc:
                checks["calendar"] = {"ok": False, "error": type(exc).__name__}
        reasons = []
        if not checks["redis"]["ok"]:
            reasons.append("redis.down")
        if not checks["storage"]["ok"]:
            # a store that cannot answer (an S3 outage: uploads are 503 meanwhile) or full
            reasons.append("storage.unavailable" if "error" in checks["storage"]
                           else "storage.low_space")
        if checks.get("outbox", {}).get("postponed"):
            reasons.append("outbox.resource_exhausted")
        if not ok:
            reasons.insert(0, "postgres.down")
        status = "down" if not ok else ("degraded" if reasons else "ok")
        resp = jsonify({"status": status, "checks": checks, "reasons": reasons,
                        "warnings": warnings})
        resp.status_code = 200 if ok else 503
        return resp


_last_dump: tuple = (None, None)


def _dumped(report: dict) -> dict:
    """The coverage as GET /calendar writes it; kept for the report it was made of (the service
    answers the same report for the same minute and facts: a probe every second)."""
    global _last_dump
    made, dump = _last_dump
    if made is not report:
        dump = CalendarCoverageSchema().dump(report)
        _last_dump = (report, dump)
    return dump


@functools.lru_cache(maxsize=64)
def _loopback(address: str) -> bool:
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(address).is_loopback
    return False


def _may_see_details() -> bool:
    """The checks in full for an admin's bearer token, or a request made on this machine
    (loopback, not relayed by a proxy): an operator's curl, the process supervisor."""
    relayed = "X-Forwarded-For" in request.headers or "X-Real-IP" in request.headers
    if not relayed and _loopback(request.remote_addr or ""):
        return True
    if not request.headers.get("Authorization"):
        return False
    try:
        return permissions.may(current_principal(), permissions.READ_HEALTH_DETAILS)
    except AppError:
        return False


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
