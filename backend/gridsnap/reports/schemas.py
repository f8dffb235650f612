"""Shapes and ranges of reports at the API edge."""

from marshmallow import Schema, fields, validate, validates_schema

from ..cases.rules import STATUSES
from ..grid.schemas import LocationSchema, parse_bbox
from ..schemas import AwareDateTime


class ReportInSchema(Schema):
    category = fields.String(required=True, validate=validate.Length(min=1, max=8))
    description = fields.String(load_default="", validate=validate.Length(max=2000))
    location = fields.Nested(LocationSchema, required=True)
    captured_at = AwareDateTime(
        required=True, metadata={"description": "When the device captured it, with offset."})
    address = fields.String(allow_none=True, validate=validate.Length(max=300))


class ReportQuerySchema(Schema):
    bbox = fields.String(metadata={"description": "minlon,minlat,maxlon,maxlat"})
    status = fields.List(fields.String(validate=validate.OneOf(STATUSES)))
    category = fields.String(validate=validate.Length(max=8))
    cell = fields.String(validate=validate.Regexp(r"^[0-9]{1,15}$"),
                         metadata={"description": "An area code prefix."})
    updated_since = AwareDateTime()

    @validates_schema
    def _bbox(self, data, **kwargs):
        if "bbox" in data:
            data["bbox"] = parse_bbox(data["bbox"])
