"""Shapes of login requests and answers."""

from marshmallow import Schema, fields, validate


class TokenRequestSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))
    label = fields.String(validate=validate.Length(max=120),
                          metadata={"description": "What this token is for, e.g. the device."})


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    role = fields.String()
    scopes = fields.List(fields.String())
    department = fields.String(attribute="department_code", allow_none=True)


class TokenSchema(Schema):
    token = fields.String(required=True)
    token_type = fields.String(dump_default="Bearer")
    expires_at = fields.AwareDateTime(required=True)
    user = fields.Nested(UserSchema)
