"""My inbox over HTTP: what I must act on."""

from __future__ import annotations

from flask.views import MethodView

from ..edge import Blueprint
from ..extensions import db_session
from ..users.auth import SECURITY, auth_required, current_principal
from . import service
from .schemas import InboxQuerySchema, NotificationSchema

blp = Blueprint("notifications", __name__, url_prefix="/me/notifications",
                description="My inbox")


@blp.route("")
class Inbox(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(InboxQuerySchema, location="query")
    @blp.response(200, NotificationSchema(many=True))
    def get(self, query):
        """My notifications, newest first (after_id: only newer ones; unread: only unread)."""
        return service.list_inbox(db_session(), current_principal(), after_id=query["after_id"],
                                  unread=query["unread"])


@blp.route("/<int:notification_id>/read")
class MarkRead(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.response(204)
    def post(self, notification_id: int):
        """Mark one notification read."""
        service.mark_read(db_session(), current_principal(), notification_id)
