"""Shapes of login requests and answers."""

from marshmallow import Schema, fields, validate

from ..schemas import AwareDateTime
from .models import ROLES


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
    expires_at = AwareDateTime(required=True)
    user = fields.Nested(UserSchema)


class UserInSchema(Schema):
    username = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.@-]{2,64}$"))
    display_name = fields.String(load_default="", validate=validate.Length(max=100))
    role = fields.String(required=True,
                         validate=validate.OneOf(ROLES))
    password = fields.String(required=True, load_only=True, validate=validate.Length(8, 256))
    scopes = fields.List(fields.String(validate=validate.Regexp(r"^[0-9]{0,15}$")),
                         load_default=list)
    department = fields.String(allow_none=True, validate=validate.Length(max=40))


class UserPatchSchema(Schema):
    scopes = fields.List(fields.String(validate=validate.Regexp(r"^[0-9]{0,15}$")))
    disabled = fields.Boolean()


class AdminUserSchema(UserSchema):
    disabled_at = AwareDateTime(allow_none=True)
    created_at = AwareDateTime()
