"""Shapes of campaigns at the API edge."""

from marshmallow import Schema, fields, validate

from ..schemas import AwareDateTime, Date


class CampaignInSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    category = fields.String(required=True, validate=validate.Length(min=1, max=8))
    area_prefix = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{0,15}$"),
                                metadata={"description": "An area code prefix; \"\" the city."})
    starts_on = Date(required=True, metadata={
        "description": "First day (deployment time zone), included."})
    ends_on = Date(required=True, metadata={"description": "Last day, included."})
    note = fields.String(validate=validate.Length(max=2000))


class CampaignEndSchema(Schema):
    ends_on = Date(metadata={
        "description": "The last day, included (default: today, or the planned last day if "
                       "earlier)."})


class CampaignCategorySchema(Schema):
    code = fields.String()
    name = fields.String(allow_none=True)


class WindowSchema(Schema):
    from_ = Date(data_key="from", attribute="from")
    to = Date(allow_none=True)
    days = fields.Integer(metadata={"description": "Complete days counted."})
    cases = fields.Integer(metadata={"description": "New cases of the class received."})
    per_week = fields.Float(allow_none=True)
    weekly = fields.List(fields.Integer(), metadata={
        "description": "Cases per week from the window's first day (the last may be partial)."})


class RecurrenceSchema(Schema):
    before = fields.Nested(WindowSchema, metadata={"description": "The 8 weeks before."})
    after = fields.Nested(WindowSchema, metadata={
        "description": "Since the day after ends_on, at most 8 weeks."})
    verdict = fields.String(metadata={
        "description": "not_yet, gone (no new case), reduced (≤ half the weekly rate before), "
                       "recurs."})


class CampaignSummarySchema(Schema):
    id = fields.Integer()
    name = fields.String()
    category = fields.Nested(CampaignCategorySchema)
    area_prefix = fields.String()
    area_name = fields.String(allow_none=True)
    starts_on = Date()
    ends_on = Date()
    note = fields.String(allow_none=True)
    created_by_id = fields.Integer(allow_none=True)
    created_at = AwareDateTime()
    linked = fields.Integer(metadata={"description": "Linked cases you may see."})
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())


class CampaignSchema(CampaignSummarySchema):
    recurrence = fields.Nested(RecurrenceSchema)
