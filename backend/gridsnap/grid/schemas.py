"""Shapes of places at the API edge: a point, an area reference, a bounding box."""

from marshmallow import Schema, ValidationError, fields, validate

from .rules import AREA_LEVELS, LOCATION_SOURCES


class LocationSchema(Schema):
    lon = fields.Float(required=True, allow_nan=False, validate=validate.Range(-180, 180))
    lat = fields.Float(required=True, allow_nan=False, validate=validate.Range(-90, 90))
    accuracy_m = fields.Float(allow_nan=False, allow_none=True,
                              validate=validate.Range(0, 100000),
                              metadata={"description": "The device's horizontal accuracy, m."})
    source = fields.String(load_default="gps", validate=validate.OneOf(LOCATION_SOURCES),
                           metadata={"description": "gps, network, or manual (set on the map)."})


class LocationOutSchema(Schema):
    lon = fields.Float()
    lat = fields.Float()
    accuracy_m = fields.Float(allow_none=True)
    source = fields.String()


class AreaRefSchema(Schema):
    code = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)


def parse_bbox(raw: str) -> tuple[float, float, float, float]:
    """minlon,minlat,maxlon,maxlat → four floats; raises marshmallow ValidationError."""
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


class LocatedSchema(Schema):
    outside_grid = fields.Boolean()
    area_code = fields.String(allow_none=True)
    cell = fields.Nested(AreaRefSchema, allow_none=True)
    community = fields.Nested(AreaRefSchema, allow_none=True)
    street = fields.Nested(AreaRefSchema, allow_none=True)
    district = fields.Nested(AreaRefSchema, allow_none=True)


class CellsQuerySchema(Schema):
    bbox = fields.String(metadata={"description": "minlon,minlat,maxlon,maxlat; optional with a "
                                                  "prefix (e.g. a worker's scope, to cache it)"})
    level = fields.String(load_default="cell", validate=validate.OneOf(AREA_LEVELS))
    prefix = fields.String(load_default="", validate=validate.Regexp(r"^[0-9]{0,15}$"))
