"""Shapes of categories at the API edge."""

from marshmallow import Schema, fields


class DepartmentRefSchema(Schema):
    code = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)


class TimeLimitSchema(Schema):
    amount = fields.Integer()
    unit = fields.String(metadata={"description": "hours, working_hours or working_days"})


class CategorySchema(Schema):
    code = fields.String()
    kind = fields.String(metadata={"description": "component (部件) or event (事件)"})
    major_code = fields.String()
    major_name = fields.String()
    major_name_en = fields.String(allow_none=True)
    minor_code = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)
    department = fields.Nested(DepartmentRefSchema, allow_none=True)
    priority = fields.Integer()
    time_limits = fields.Dict(keys=fields.String(), values=fields.Nested(TimeLimitSchema))
    auto_accept = fields.Boolean(metadata={"description": "Accepted (立案) without a supervisor."})
    auto_dispatch = fields.Boolean(metadata={"description": "Dispatched at once when accepted."})
    duplicate_radius_m = fields.Integer(metadata={"description": "Possible duplicates within."})
