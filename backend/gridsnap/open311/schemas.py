"""Shapes of the admin API for Open311 clients (the GeoReport endpoints speak the spec's own
form-encoded input and JSON/XML output, see api.py)."""

from marshmallow import Schema, fields, validate

from .rules import CLIENT_NAME


class ClientInSchema(Schema):
    name = fields.String(required=True, validate=validate.Regexp(CLIENT_NAME), metadata={
        "description": "The client system, e.g. fixmystreet-app (lower case, digits, -)."})
    display_name = fields.String(load_default="", validate=validate.Length(max=100))
    scopes = fields.List(fields.String(validate=validate.Regexp(r"^[0-9]{0,15}$")),
                         required=True, validate=validate.Length(min=1), metadata={
                             "description": "Area code prefixes its key may read ('' the city)."})


class ClientSchema(Schema):
    name = fields.String()
    display_name = fields.String()
    scopes = fields.List(fields.String())
    created_at = fields.AwareDateTime()
    revoked = fields.Boolean()
    requests = fields.Integer(metadata={"description": "Service requests it posted."})


class IssuedKeySchema(Schema):
    name = fields.String()
    api_key = fields.String(metadata={"description": "Shown once; only its hash is stored."})
