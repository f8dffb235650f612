"""Shapes and ranges of reports at the API edge."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from .models import LOCATION_SOURCES, STATUSES


class LocationSchema(Schema):
    lon = fields.Float(required=True, allow_nan=False, validate=validate.Range(-180, 180))
    lat = fields.Float(required=True, allow_nan=False, validate=validate.Range(-90, 90))
    accuracy_m = fields.Float(allow_nan=False, allow_none=True,
                              validate=validate.Range(0, 100000),
                              metadata={"description": "The device's horizontal accuracy, m."})
    source = fields.String(load_default="gps", validate=validate.OneOf(LOCATION_SOURCES),
                           metadata={"description": "gps, network, or manual (set on the map)."})


class ReportInSchema(Schema):
    category = fields.String(required=True, validate=validate.Length(min=1, max=8))
    description = fields.String(load_default="", validate=validate.Length(max=2000))
    location = fields.Nested(LocationSchema, required=True)
    captured_at = fields.AwareDateTime(
        required=True, metadata={"description": "When the device captured it, with offset."})
    address = fields.String(allow_none=True, validate=validate.Length(max=300))


class AreaRefSchema(Schema):
    code = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)


class LocationOutSchema(Schema):
    lon = fields.Float()
    lat = fields.Float()
    accuracy_m = fields.Float(allow_none=True)
    source = fields.String()


class PhotoOutSchema(Schema):
    id = fields.UUID()
    sha256 = fields.String()
    content_type = fields.String()
    size_bytes = fields.Integer()
    width = fields.Integer()
    height = fields.Integer()
    uploaded_at = fields.AwareDateTime()
    purpose = fields.String(metadata={"description": "report, resolution or verification"})
    processed = fields.Boolean()
    exif_taken_at = fields.AwareDateTime(allow_none=True)
    exif_location = fields.Nested(LocationOutSchema, allow_none=True)
    exif_distance_m = fields.Float(allow_none=True)
    urls = fields.Dict(keys=fields.String(), values=fields.String())


class ReportOutSchema(Schema):
    id = fields.UUID()
    number = fields.Integer(metadata={"description": "The case number people use."})
    status = fields.String()
    category = fields.String()
    description = fields.String()
    address = fields.String(allow_none=True)
    location = fields.Nested(LocationOutSchema)
    captured_at = fields.AwareDateTime()
    received_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    reporter_id = fields.Integer()
    outside_grid = fields.Boolean()
    area_code = fields.String(allow_none=True)
    cell = fields.Nested(AreaRefSchema, allow_none=True)
    community = fields.Nested(AreaRefSchema, allow_none=True)
    street = fields.Nested(AreaRefSchema, allow_none=True)
    district = fields.Nested(AreaRefSchema, allow_none=True)
    department = fields.String(allow_none=True, metadata={"description": "Dispatched to."})
    suggested_department = fields.String(
        allow_none=True, metadata={"description": "What the routing rules suggest (精准派单)."})
    due_at = fields.AwareDateTime(allow_none=True,
                                  metadata={"description": "The running stage's deadline."})


class ReportDetailSchema(ReportOutSchema):
    photos = fields.List(fields.Nested(PhotoOutSchema))


class ReportQuerySchema(Schema):
    bbox = fields.String(metadata={"description": "minlon,minlat,maxlon,maxlat"})
    status = fields.List(fields.String(validate=validate.OneOf(STATUSES)))
    category = fields.String(validate=validate.Length(max=8))
    cell = fields.String(validate=validate.Regexp(r"^[0-9]{1,15}$"),
                         metadata={"description": "An area code prefix."})
    updated_since = fields.AwareDateTime()

    @validates_schema
    def _bbox(self, data, **kwargs):
        if "bbox" in data:
            data["bbox"] = parse_bbox(data["bbox"])


def parse_bbox(raw: str) -> tuple[float, float, float, float]:
    try:
        parts = [float(x) for x in raw.split(",")]
    except ValueError:
        raise ValidationError("bbox is four numbers: minlon,minlat,maxlon,maxlat.",
                              "bbox") from None
    if len(parts) != 4 or any(p != p for p in parts):
        raise ValidationError("bbox is four numbers: minlon,minlat,maxlon,maxlat.", "bbox")
    minlon, minlat, maxlon, maxlat = parts
    if not (-180 <= minlon < maxlon <= 180 and -90 <= minlat < maxlat <= 90):
        raise ValidationError("bbox must be minlon<maxlon, minlat<maxlat within lon/lat ranges.",
                              "bbox")
    return minlon, minlat, maxlon, maxlat


class CellLocateQuerySchema(Schema):
    lon = fields.Float(required=True, allow_nan=False, validate=validate.Range(-180, 180))
    lat = fields.Float(required=True, allow_nan=False, validate=validate.Range(-90, 90))
