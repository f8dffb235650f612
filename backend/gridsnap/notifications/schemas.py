"""Shapes of the inbox at the API edge."""

from marshmallow import Schema, fields

from ..schemas import AwareDateTime, case_id_field


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    case_id = case_id_field(attribute="report_id", allow_none=True)
    case_number = fields.Integer(allow_none=True)
    data = fields.Dict()
    created_at = AwareDateTime()
    read_at = AwareDateTime(allow_none=True)


class InboxQuerySchema(Schema):
    unread = fields.Boolean(load_default=False)
    after_id = fields.Integer(load_default=0)
