"""GET /calendar: whether the working calendar covers the deadlines in use."""

from __future__ import annotations

from flask.views import MethodView

from .. import clock
from ..edge import Blueprint
from ..extensions import db_session, settings
from ..users.auth import SECURITY, auth_required
from . import service
from .schemas import CalendarCoverageSchema

blp = Blueprint("calendar", __name__, url_prefix="/calendar",
                description="The working calendar (holidays and 调休) and its coverage")


@blp.route("")
class CalendarCoverage(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.response(200, CalendarCoverageSchema)
    def get(self):
        """Which years have official holiday data, and a warning when running deadlines, or
        a stage starting now under the longest configured limit, need a year that has none
        (the command centre shows it as a banner)."""
        return service.calendar_report(db_session(), settings(), clock.now())
