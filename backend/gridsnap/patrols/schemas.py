"""Shapes of patrols at the API edge."""

from marshmallow import Schema, fields, validate

from ..schemas import MONTH_PATTERN, AwareDateTime, Date
from .rules import POINTS_PER_BATCH, STALE_DAYS, TABLE_GROUPS


class PatrolStartSchema(Schema):
    started_at = AwareDateTime(required=True, metadata={"description": "The device's start."})


class PatrolEndSchema(Schema):
    ended_at = AwareDateTime(required=True, metadata={"description": "The device's end."})


class TrackPointInSchema(Schema):
    id = fields.UUID(required=True, metadata={"description": "Made by the phone."})
    recorded_at = AwareDateTime(required=True)
    lon = fields.Float(required=True, allow_nan=False, validate=validate.Range(-180, 180))
    lat = fields.Float(required=True, allow_nan=False, validate=validate.Range(-90, 90))
    accuracy_m = fields.Float(allow_none=True, allow_nan=False,
                              validate=validate.Range(0, 100000))


class TrackBatchSchema(Schema):
    points = fields.List(fields.Nested(TrackPointInSchema), required=True,
                         validate=validate.Length(min=1, max=POINTS_PER_BATCH))


class PatrolCellSchema(Schema):
    code = fields.String()
    name = fields.String()
    seconds = fields.Float()
    length_m = fields.Float()


class PatrolReportSchema(Schema):
    id = fields.UUID()
    number = fields.Integer()
    category_code = fields.String()
    status = fields.String()
    captured_at = AwareDateTime()
    cell_code = fields.String(allow_none=True)


class PatrolSchema(Schema):
    id = fields.UUID()
    worker_id = fields.Integer()
    worker_name = fields.String()
    started_at = AwareDateTime()
    ended_at = AwareDateTime(allow_none=True)
    recording = fields.Boolean()
    points = fields.Integer()
    distance_m = fields.Float()
    seconds = fields.Float()
    max_speed_mps = fields.Float(allow_none=True)
    flags = fields.List(fields.String(), metadata={
        "description": "impossible_speed, far_from_cells: not counted in the coverage."})
    track_purged_at = AwareDateTime(allow_none=True)
    cells = fields.List(fields.Nested(PatrolCellSchema))
    reports = fields.List(fields.Nested(PatrolReportSchema))
    track = fields.Dict(metadata={"description": "GeoJSON Feature: the LineString."})


class BatchResultSchema(Schema):
    accepted = fields.Integer()
    duplicates = fields.Integer()
    patrol = fields.Nested(PatrolSchema)


class PatrolQuerySchema(Schema):
    worker_id = fields.Integer()
    day = Date(metadata={"description": "A day in the deployment's time zone."})


class PatrolGetQuerySchema(Schema):
    track = fields.Boolean(load_default=False)


class PlanInSchema(Schema):
    area = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{0,15}$"),
                         metadata={"description": "The cells under this area code prefix."})
    visits_per_week = fields.Integer(required=True, validate=validate.Range(1, 100))
    window_start = fields.Time(allow_none=True, metadata={"description": "Local time of day."})
    window_end = fields.Time(allow_none=True)


class PlanSchema(Schema):
    id = fields.Integer()
    area_prefix = fields.String()
    visits_per_week = fields.Integer()
    window_start = fields.Time(allow_none=True)
    window_end = fields.Time(allow_none=True)
    created_by_id = fields.Integer(allow_none=True)
    created_at = AwareDateTime()


class FiguresQuerySchema(Schema):
    area = fields.String(load_default="", validate=validate.Regexp(r"^[0-9]{0,15}$"))
    week = Date(required=True, metadata={"description": "The Monday the week starts on."})


class CellFigureSchema(Schema):
    code = fields.String()
    name = fields.String()
    visits = fields.Integer(metadata={"description": "巡查次数"})
    seconds = fields.Float()
    planned = fields.Integer(allow_none=True)
    planned_visits = fields.Integer()
    window_start = fields.Time(allow_none=True)
    window_end = fields.Time(allow_none=True)
    met = fields.Boolean(allow_none=True)


class WorkerFigureSchema(Schema):
    worker_id = fields.Integer()
    worker_name = fields.String()
    patrols = fields.Integer()
    distance_m = fields.Float()
    seconds = fields.Float()
    flagged = fields.Integer()


class WeekFiguresSchema(Schema):
    area = fields.String()
    week = Date()
    cells = fields.Integer()
    cells_walked = fields.Integer()
    coverage_rate = fields.Float(allow_none=True, metadata={"description": "巡查覆盖率"})
    visits = fields.Integer()
    seconds = fields.Float()
    cells_planned = fields.Integer()
    cells_met = fields.Integer()
    plans_met_rate = fields.Float(allow_none=True)
    flagged_patrols = fields.Integer()
    per_cell = fields.List(fields.Nested(CellFigureSchema))
    per_worker = fields.List(fields.Nested(WorkerFigureSchema))


class TableQuerySchema(Schema):
    period = fields.String(validate=validate.Regexp(MONTH_PATTERN), metadata={
        "description": "A month, YYYY-MM, in the deployment's time zone (default: this month)."})
    from_ = Date(data_key="from", metadata={
        "description": "First day of a custom period (with `to`), both days included."})
    to = Date(metadata={"description": "Last day of a custom period."})
    area = fields.String(validate=validate.Regexp(r"^[0-9]{1,15}$"), metadata={
        "description": "An area code prefix within your scope (default: your scope)."})
    group = fields.String(load_default="community", validate=validate.OneOf(TABLE_GROUPS),
                          metadata={"description": "An area level, or worker."})
    stale_days = fields.Integer(load_default=STALE_DAYS, validate=validate.Range(1, 366),
                                metadata={"description": "A cell not walked in this many days "
                                                         "before the cutoff is counted 未巡查."})


class TableRowSchema(Schema):
    key = fields.String(allow_none=True, metadata={
        "description": "The area code, or the worker's id; null in the total."})
    name = fields.String(allow_none=True)
    name_en = fields.String(allow_none=True)
    cells = fields.Integer(metadata={"description": "Cells of the area (area groups)."})
    cells_walked = fields.Integer(metadata={"description": "Cells walked in the period."})
    coverage_rate = fields.Float(allow_none=True, metadata={
        "description": "巡查覆盖率: cells walked ÷ cells (area groups), in [0, 1]."})
    cells_stale = fields.Integer(metadata={
        "description": "未巡查: cells not walked in the stale_days before the cutoff."})
    visits = fields.Integer(metadata={"description": "巡查次数: (patrol, cell) walks."})
    patrols = fields.Integer()
    workers = fields.Integer()
    flagged = fields.Integer(metadata={"description": "Flagged patrols (worker group)."})
    seconds = fields.Float()
    hours = fields.Float(metadata={"description": "巡查时长, hours."})
    distance_m = fields.Float()
    km = fields.Float(metadata={"description": "巡查里程, km."})


class TablePeriodSchema(Schema):
    label = fields.String()
    from_ = Date(data_key="from", attribute="from")
    to = Date()
    start = AwareDateTime()
    end = AwareDateTime()
    cutoff = AwareDateTime(metadata={"description": "The figures are taken at this instant."})


class PatrolTableSchema(Schema):
    period = fields.Nested(TablePeriodSchema)
    group = fields.String()
    area = fields.String(allow_none=True)
    stale_days = fields.Integer()
    stale_from = AwareDateTime()
    rows = fields.List(fields.Nested(TableRowSchema))
    total = fields.Nested(TableRowSchema)


class CoverageQuerySchema(Schema):
    period = fields.String(validate=validate.Regexp(MONTH_PATTERN), metadata={
        "description": "A month, YYYY-MM (default: this month)."})
    from_ = Date(data_key="from", metadata={"description": "First day (with `to`)."})
    to = Date(metadata={"description": "Last day, included."})
    area = fields.String(validate=validate.Regexp(r"^[0-9]{1,15}$"), metadata={
        "description": "An area code prefix within your scope (default: your scope)."})


class TracksQuerySchema(Schema):
    day = Date(required=True, metadata={"description": "A day in the deployment's time zone."})
