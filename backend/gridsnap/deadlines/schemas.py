"""Shapes of the calendar coverage at the API edge."""

from marshmallow import Schema, fields

from ..schemas import AwareDateTime


class CalendarYearSchema(Schema):
    year = fields.Integer()
    official = fields.Boolean(metadata={
        "description": "The year's State Council holiday notice is known (调休 included)."})
    source = fields.String(allow_none=True, metadata={
        "description": "library (the holidays library), file (GRIDSNAP_HOLIDAYS_FILE), or null: "
                       "estimated (statutory holidays only)."})


class EstimatedYearSchema(Schema):
    year = fields.Integer()
    cases = fields.Integer(metadata={"description": "Running estimated deadlines due in it."})


class HolidaysFileSchema(Schema):
    sha256 = fields.String()
    years = fields.List(fields.Integer())


class CalendarCoverageSchema(Schema):
    ok = fields.Boolean(metadata={"description": "No warning."})
    years = fields.List(fields.Nested(CalendarYearSchema))
    uncovered_in_use = fields.List(fields.Integer(), metadata={
        "description": "Years without official holiday data that running deadlines were counted "
                       "over, or that a stage starting now under the longest configured limit "
                       "reaches."})
    longest_limit_due_at = AwareDateTime(metadata={
        "description": "When a stage starting now under the longest configured limit is due."})
    estimated = fields.List(fields.Nested(EstimatedYearSchema), metadata={
        "description": "The running deadlines that are estimates, by the year they fall due in."})
    estimated_cases = fields.Integer()
    recompute_needed = fields.Boolean(metadata={
        "description": "Estimated deadlines were counted over years that now have data."})
    holidays_file = fields.Nested(HolidaysFileSchema, allow_none=True)
    warnings = fields.List(fields.String())
