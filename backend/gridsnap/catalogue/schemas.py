"""Shapes of the catalogues at the API edge."""

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate


class ImportFileSchema(Schema):
    file = Upload(required=True, metadata={
        "description": "A CSV (UTF-8) or XLSX file, the first row naming the columns (README)."})


class ImportQuerySchema(Schema):
    replace = fields.Boolean(load_default=False, metadata={
        "description": "The file is the whole set: what it leaves out is retired (classes) or "
                       "removed (dispatch entries, address points)."})


class ImportResultSchema(Schema):
    classes = fields.Integer()
    deactivated = fields.Integer()
    entries = fields.Integer()
    addresses = fields.Integer()


class SearchQuerySchema(Schema):
    q = fields.String(required=True, validate=validate.Length(min=1, max=50), metadata={
        "description": "A few characters of the name (Chinese), its pinyin or initials, the "
                       "English name, a keyword or the code."})
    area = fields.String(validate=validate.Regexp(r"^[0-9]{6,15}$"), metadata={
        "description": "The area of the call (a cell's code, say): each class then names the "
                       "unit the dispatch catalogue sends it to there."})


class NamedSchema(Schema):
    name = fields.String()
    name_en = fields.String(allow_none=True)


class ClassUnitSchema(NamedSchema):
    code = fields.String()


class ClassMatchSchema(Schema):
    code = fields.String()
    level = fields.Integer(metadata={"description": "1, 2 or 3"})
    name = fields.String()
    name_en = fields.String(allow_none=True)
    path = fields.List(fields.Nested(NamedSchema), metadata={
        "description": "Its ancestors' names, the top first."})
    leaf = fields.Boolean(metadata={"description": "No class below it."})
    category = fields.String(allow_none=True, metadata={
        "description": "The 数字城管 category its cases are filed under."})
    department = fields.Nested(ClassUnitSchema, allow_none=True, metadata={
        "description": "The unit type it is dispatched to (in the area, if given)."})
    from_dispatch_catalogue = fields.Boolean(metadata={
        "description": "The dispatch catalogue (派单目录) decided; false: the class's own unit "
                       "type."})


class SummarySchema(Schema):
    classes = fields.Integer()
    dispatch_entries = fields.Integer()
    address_points = fields.Integer()


class RequestClassSchema(Schema):
    code = fields.String()
    parent_code = fields.String(allow_none=True)
    level = fields.Integer()
    name = fields.String()
    name_en = fields.String(allow_none=True)
    category = fields.String(attribute="category_code", allow_none=True)
    department = fields.String(attribute="department_code", allow_none=True)
    keywords = fields.String()
    active = fields.Boolean()


class DispatchEntrySchema(Schema):
    id = fields.Integer()
    class_code = fields.String(data_key="class")
    area = fields.String(attribute="area_prefix", metadata={"description": "\"\": the city."})
    department = fields.String(attribute="department_code")
    note = fields.String(allow_none=True)
