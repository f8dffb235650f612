"""Shapes of campaigns at the API edge."""

from marshmallow import Schema, fields, validate

from ..schemas import MONTH_PATTERN, AwareDateTime, Date
from ..stats.rules import TOP_LEVELS
from ..stats.schemas import PeriodSchema, TopProblemSchema
from .rules import HOT_FACTOR, HOT_MIN_COUNT, KINDS, MAX_MEASURES


class MeasureSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=500))
    done_on = Date(allow_none=True, load_default=None, metadata={
        "description": "The day it was done; null while it is under way."})


class CampaignInSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    category = fields.String(required=True, validate=validate.Length(min=1, max=8))
    area_prefix = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{0,15}$"),
                                metadata={"description": "An area code prefix; \"\" the city."})
    starts_on = Date(required=True, metadata={
        "description": "First day (deployment time zone), included."})
    ends_on = Date(required=True, metadata={"description": "Last day, included."})
    note = fields.String(validate=validate.Length(max=2000))
    kind = fields.String(load_default="campaign", validate=validate.OneOf(KINDS), metadata={
        "description": "campaign (专项) or monthly_topic (每月一题: the month's chosen problem "
                       "class, run as a programme)."})
    lead_department = fields.String(validate=validate.Length(min=1, max=40), metadata={
        "description": "The department that leads it (牵头单位)."})
    measures = fields.List(fields.Nested(MeasureSchema), validate=validate.Length(
        max=MAX_MEASURES), metadata={"description": "The measures (举措)."})


class ProgrammeInSchema(Schema):
    lead_department = fields.String(allow_none=True, validate=validate.Length(min=1, max=40),
                                    metadata={"description": "牵头单位; null: none."})
    measures = fields.List(fields.Nested(MeasureSchema), validate=validate.Length(
        max=MAX_MEASURES), metadata={"description": "The measures (举措), replaced as given."})


class CampaignListQuerySchema(Schema):
    kind = fields.String(validate=validate.OneOf(KINDS))


class HotSpotQuerySchema(Schema):
    period = fields.String(validate=validate.Regexp(MONTH_PATTERN),
                           metadata={"description": "The month, YYYY-MM (default: this month)."})
    area = fields.String(validate=validate.Regexp(r"^[0-9]{1,15}$"))
    level = fields.String(load_default="community", validate=validate.OneOf(TOP_LEVELS))
    min_count = fields.Integer(load_default=HOT_MIN_COUNT, validate=validate.Range(1, 10000),
                               metadata={"description": "Cases of the class in the month, at "
                                                        "least."})
    factor = fields.Float(load_default=float(HOT_FACTOR), validate=validate.Range(1, 100),
                          metadata={"description": "Times the monthly average before, at "
                                                   "least."})


class TakenOnSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()


class HotSpotSchema(TopProblemSchema):
    rise = fields.Float(metadata={"description": "count − previous_average."})
    taken_on_by = fields.List(fields.Nested(TakenOnSchema), metadata={
        "description": "Campaigns and 每月一题 of its category over its area in the month."})


class HotSpotsSchema(Schema):
    period = fields.Nested(PeriodSchema)
    level = fields.String()
    area = fields.String(allow_none=True)
    months = fields.List(fields.String())
    min_count = fields.Integer()
    factor = fields.Float()
    items = fields.List(fields.Nested(HotSpotSchema))


class CampaignEndSchema(Schema):
    ends_on = Date(metadata={
        "description": "The last day, included (default: today, or the planned last day if "
                       "earlier)."})


class CampaignCategorySchema(Schema):
    code = fields.String()
    name = fields.String(allow_none=True)
    name_en = fields.String(allow_none=True)


class MeasureOutSchema(Schema):
    text = fields.String()
    done_on = fields.String(allow_none=True, metadata={"description": "YYYY-MM-DD or null."})


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
    kind = fields.String(metadata={"description": "campaign (专项) or monthly_topic (每月一题)"})
    lead_department = fields.Nested(CampaignCategorySchema, allow_none=True, metadata={
        "description": "牵头单位: code and names."})
    measures = fields.List(fields.Nested(MeasureOutSchema))
    category = fields.Nested(CampaignCategorySchema)
    area_prefix = fields.String()
    area_name = fields.String(allow_none=True)
    area_name_en = fields.String(allow_none=True)
    starts_on = Date()
    ends_on = Date()
    note = fields.String(allow_none=True)
    created_by_id = fields.Integer(allow_none=True)
    created_at = AwareDateTime()
    linked = fields.Integer(metadata={"description": "Linked cases you may see."})
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())


class CampaignSchema(CampaignSummarySchema):
    recurrence = fields.Nested(RecurrenceSchema)
