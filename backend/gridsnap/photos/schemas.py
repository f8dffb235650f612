"""Shapes of photos at the API edge."""

from marshmallow import EXCLUDE, Schema, fields, validate

from ..grid.schemas import LocationOutSchema
from ..schemas import AwareDateTime, case_id_field
from .rules import EXIF_SOURCES, PURPOSES, SIZES


class PhotoOutSchema(Schema):
    id = fields.UUID()
    sha256 = fields.String()
    content_type = fields.String()
    size_bytes = fields.Integer()
    width = fields.Integer()
    height = fields.Integer()
    uploaded_at = AwareDateTime()
    purpose = fields.String(metadata={"description": "report, resolution or verification"})
    processed = fields.Boolean()
    public = fields.Boolean(metadata={
        "description": "Marked public (公开) by staff: only then does Open311 show it."})
    exif_taken_at = AwareDateTime(allow_none=True)
    exif_location = fields.Nested(LocationOutSchema, allow_none=True)
    exif_distance_m = fields.Float(allow_none=True)
    exif_source = fields.String(allow_none=True, validate=validate.OneOf(EXIF_SOURCES), metadata={
        "description": "Where exif_taken_at and exif_location came from: `file`, the EXIF of the "
                       "stored bytes (the camera's own record; the phone copies it into a photo it "
                       "makes smaller); `device`, only the values the phone read and sent with "
                       "them; null before processing or when there were none."})
    urls = fields.Dict(keys=fields.String(), values=fields.String())


class PhotoPutQuery(Schema):
    exif_taken_at = AwareDateTime(metadata={
        "description": "The photo's EXIF time as the phone read it before downscaling."})
    exif_lon = fields.Float(validate=validate.Range(-180, 180),
                            metadata={"description": "Its EXIF position (with exif_lat)."})
    exif_lat = fields.Float(validate=validate.Range(-90, 90))
    purpose = fields.String(load_default="report", validate=validate.OneOf(PURPOSES),
                            metadata={"description": "report; resolution (a handler's after-photo);"
                                                     " verification (a worker's on-site photo)"})


class PhotoSizeQuery(Schema):
    size = fields.String(load_default="display", validate=validate.OneOf(SIZES))


class UploadMetadataSchema(PhotoPutQuery):
    """What a resumable upload's Upload-Metadata binds it to (tus creation), besides the EXIF
    and purpose the plain PUT takes in its query. Other keys (a client's filename) are
    ignored."""

    class Meta:
        unknown = EXCLUDE

    report_id = case_id_field(required=True)
    photo_id = fields.UUID(required=True)
    content_type = fields.String(required=True, metadata={
        "description": "image/jpeg, image/png or image/webp"})
