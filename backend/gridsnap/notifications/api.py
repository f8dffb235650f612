"""My inbox: what I must act on."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import text

from ..auth import SECURITY, auth_required, current_principal
from ..errors import AppError
from ..extensions import db_session

blp = Blueprint("notifications", __name__, url_prefix="/me/notifications",
                description="My inbox")


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    case_id = fields.UUID(attribute="report_id", allow_none=True)
    case_number = fields.Integer(allow_none=True)
    data = fields.Dict()
    created_at = fields.AwareDateTime()
    read_at = fields.AwareDateTime(allow_none=True)


class InboxQuerySchema(Schema):
    unread = fields.Boolean(load_default=False)
    after_id = fields.Integer(load_default=0)


@blp.route("")
class Inbox(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(InboxQuerySchema, location="query")
    @blp.response(200, NotificationSchema(many=True))
    def get(self, query):
        """My notifications, newest first (after_id: only newer ones; unread: only unread)."""
        rows = db_session().execute(text("""
            SELECT n.id, n.kind, n.report_id, r.number AS case_number, n.data, n.created_at,
                   n.read_at
              FROM notifications n LEFT JOIN reports r ON r.id = n.report_id
             WHERE n.user_id = :u AND n.id > :after AND (NOT :unread OR n.read_at IS NULL)
             ORDER BY n.id DESC LIMIT 200
        """), {"u": current_principal().id, "after": query["after_id"],
               "unread": query["unread"]}).mappings().all()
        return rows


@blp.route("/<int:notification_id>/read")
class MarkRead(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.response(204)
    def post(self, notification_id: int):
        """Mark one notification read."""
        session = db_session()
        n = session.execute(text(
            "UPDATE notifications SET read_at = coalesce(read_at, now()) "
            "WHERE id = :id AND user_id = :u"),
            {"id": notification_id, "u": current_principal().id}).rowcount
        session.commit()
        if not n:
            raise AppError("notification.not_found", "There is no such notification of yours.")
