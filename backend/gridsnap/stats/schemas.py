"""Shapes of the evaluation at the API edge: period and grouping in, indicator tables out."""

from marshmallow import Schema, fields, validate

from ..cases.rules import SOURCES
from ..schemas import MONTH_PATTERN, AwareDateTime, Date
from .rules import (
    BY_KEY,
    GROUPS,
    INDICATORS,
    RANKING_COUNTS,
    RANKING_GROUPS,
    RANKING_RATES,
    TOP_LEVELS,
)

_AREA = fields.String(validate=validate.Regexp(r"^[0-9]{1,15}$"),
                      metadata={"description": "An area code prefix: only cases under it."})
_SOURCE = fields.String(validate=validate.OneOf(SOURCES), metadata={
    "description": "Only cases from this source: worker, hotline, open311, other."})


_YEAR = r"(19[0-9]{2}|2[01][0-9]{2})"
_MM = _YEAR + r"-(0[1-9]|1[0-2])"
# a month, a year, or a range of months (the range's length is checked by the service)
MONTHS_PATTERN = rf"^({_MM}|{_YEAR}|{_MM}\.\.{_MM})$"


class PeriodQuerySchema(Schema):
    period = fields.String(validate=validate.Regexp(MONTHS_PATTERN), metadata={
        "description": "A month, YYYY-MM, in the deployment's time zone (default: this month); "
                       "or a year, YYYY, or a range of at most 12 months, YYYY-MM..YYYY-MM: its "
                       "months added up, each as its own table gives it (a month closed for "
                       "good: as of its end), without medians."})
    from_ = Date(data_key="from", metadata={
        "description": "First day of a custom period (with `to`), both days included."})
    to = Date(metadata={"description": "Last day of a custom period."})
    area = _AREA
    source = _SOURCE


class IndicatorQuerySchema(PeriodQuerySchema):
    group = fields.String(load_default="district", validate=validate.OneOf(GROUPS), metadata={
        "description": "district, street, community, cell (area levels), department (报到 and "
                       "督办: the summoned / noticed department), category, kind (部件/事件), "
                       "major_class (大类), source, reporter (监督员: who reported), handler "
                       "(处置人员: who resolved)."})


class TopProblemsQuerySchema(Schema):
    period = fields.String(validate=validate.Regexp(MONTH_PATTERN),
                           metadata={"description": "The month, YYYY-MM (default: this month)."})
    area = _AREA
    source = _SOURCE
    level = fields.String(load_default="community", validate=validate.OneOf(TOP_LEVELS),
                          metadata={"description": "The area level a class is counted at."})
    limit = fields.Integer(load_default=10, validate=validate.Range(1, 100))
    cells = fields.Integer(load_default=5, validate=validate.Range(1, 50),
                           metadata={"description": "How many top cells per class."})


class PeriodSchema(Schema):
    label = fields.String()
    from_ = Date(data_key="from", attribute="from")
    to = Date()
    start = AwareDateTime(metadata={"description": "The period's first instant."})
    end = AwareDateTime(metadata={"description": "The instant after the period."})
    cutoff = AwareDateTime(metadata={
        "description": "The figures are taken at this instant: the end, or now if earlier."})
    months = fields.List(fields.String(), allow_none=True, metadata={
        "description": "A year or a range of months: the months added up (YYYY-MM)."})


class AreaNameSchema(Schema):
    code = fields.String()
    name = fields.String(allow_none=True)
    name_en = fields.String(allow_none=True)


class AreaChainSchema(Schema):
    district = fields.Nested(AreaNameSchema, allow_none=True)
    street = fields.Nested(AreaNameSchema, allow_none=True)
    community = fields.Nested(AreaNameSchema, allow_none=True)
    cell = fields.Nested(AreaNameSchema, allow_none=True)


def _indicator_fields() -> dict:
    out = {}
    for ind in INDICATORS:
        desc = ind.title
        if ind.numerator:
            out[ind.key] = fields.Float(allow_none=True, metadata={
                "description": f"{desc} ({ind.title_en}): {ind.numerator} ÷ {ind.denominator}, "
                               "percent with two "
                               "decimals; null when the denominator is 0 (printed —)."})
        elif ind.key == "composite_score":
            out[ind.key] = fields.Float(allow_none=True, metadata={
                "description": f"{desc} ({ind.title_en}): Σ weight × rate ÷ Σ weight over the "
                               "weighted rates (GRIDSNAP_INDICATOR_WEIGHTS); a rate without a "
                               "value left out or scored as GRIDSNAP_INDICATOR_MISSING says; "
                               "null when no weighted rate has a value (composite_rates)."})
        elif ind.key.startswith("median_"):
            out[ind.key] = fields.Float(allow_none=True, metadata={
                "description": f"{desc} ({ind.title_en})"})
        else:
            out[ind.key] = fields.Integer(metadata={"description": f"{desc} ({ind.title_en})"})
    return out


IndicatorRowSchema = Schema.from_dict({
    "key": fields.String(allow_none=True, metadata={
        "description": "The group's code; null for cases without one (outside the grid, "
                       "not dispatched)."}),
    "name": fields.String(allow_none=True),
    "name_en": fields.String(allow_none=True),
    "areas": fields.Nested(AreaChainSchema, allow_none=True, metadata={
        "description": "For an area grouping: the area and those above it."}),
    **_indicator_fields(),
}, name="IndicatorRow")


class IndicatorTableSchema(Schema):
    period = fields.Nested(PeriodSchema)
    group = fields.String()
    area = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    rows = fields.List(fields.Nested(IndicatorRowSchema))
    total = fields.Nested(IndicatorRowSchema)


class ProblemCategorySchema(Schema):
    code = fields.String()
    name = fields.String(allow_none=True)
    name_en = fields.String(allow_none=True)


class ProblemAreaSchema(ProblemCategorySchema):
    level = fields.String()


class MonthCountSchema(Schema):
    month = fields.String()
    count = fields.Integer()


class ClusterCellSchema(Schema):
    code = fields.String()
    name = fields.String(allow_none=True)
    name_en = fields.String(allow_none=True)
    count = fields.Integer()
    lon = fields.Float(allow_none=True, metadata={"description": "A point inside the cell."})
    lat = fields.Float(allow_none=True)


class TopProblemSchema(Schema):
    category = fields.Nested(ProblemCategorySchema)
    area = fields.Nested(ProblemAreaSchema)
    count = fields.Integer(metadata={"description": "立案 cases of this class in the month."})
    trend = fields.List(fields.Nested(MonthCountSchema), metadata={
        "description": "Counts in the months before and in the month itself (last)."})
    previous_average = fields.Float(allow_none=True)
    cells = fields.List(fields.Nested(ClusterCellSchema))


class TopProblemsSchema(Schema):
    period = fields.Nested(PeriodSchema)
    level = fields.String()
    area = fields.String(allow_none=True)
    months = fields.List(fields.String())
    items = fields.List(fields.Nested(TopProblemSchema))


# --- the monthly 考评 ranking ----------------------------------------------------------------------

class RankingQuerySchema(Schema):
    period = fields.String(validate=validate.Regexp(MONTH_PATTERN), metadata={
        "description": "The month, YYYY-MM (default: this month); ranked against the month "
                       "before."})
    group = fields.String(load_default="street", validate=validate.OneOf(RANKING_GROUPS),
                          metadata={"description": "street (街乡, default), district, community "
                                                   "or department (the unit)."})
    area = _AREA


class RankingWeightSchema(Schema):
    rate = fields.String()
    weight = fields.Float()


RankingRowSchema = Schema.from_dict({
    "key": fields.String(metadata={"description": "The area's or department's code."}),
    "name": fields.String(allow_none=True),
    "name_en": fields.String(allow_none=True),
    "areas": fields.Nested(AreaChainSchema, allow_none=True, metadata={
        "description": "For an area: the area and those above it."}),
    "rank": fields.Integer(allow_none=True, metadata={
        "description": "1 = best score; equal scores share a rank (1, 2, 2, 4); null: no "
                       "score (no rated request)."}),
    "score": fields.Float(allow_none=True, metadata={
        "description": "Σ weight × rate ÷ Σ weight over the three rates (weights), two "
                       "decimals; null when none has a value."}),
    "score_rates": fields.Integer(metadata={"description": "How many of the three rates the "
                                                           "score rests on."}),
    "previous_rank": fields.Integer(allow_none=True, metadata={"description": "Last month's."}),
    "previous_score": fields.Float(allow_none=True),
    "movement": fields.Integer(allow_none=True, metadata={
        "description": "Places gained since last month (negative: lost); null unless ranked "
                       "in both."}),
    "population": fields.Integer(allow_none=True, metadata={
        "description": "Residents (常住人口, area_populations); null: no figure, or a "
                       "department."}),
    "requests_per_10k": fields.Float(allow_none=True, metadata={
        "description": "requests × 10,000 ÷ population (万人诉求量), two decimals."}),
    **{k: fields.Integer(metadata={"description": f"{BY_KEY[k].title} ({BY_KEY[k].title_en})"})
       for k in RANKING_COUNTS},
    **{k: fields.Float(allow_none=True, metadata={
        "description": f"{BY_KEY[k].title} ({BY_KEY[k].title_en}), percent; after 剔除 and 核减."})
       for k in RANKING_RATES},
}, name="RankingRow")


class RankingSchema(Schema):
    period = fields.Nested(PeriodSchema)
    previous_period = fields.String(metadata={"description": "The month compared, YYYY-MM."})
    group = fields.String()
    area = fields.String(allow_none=True)
    weights = fields.List(fields.Nested(RankingWeightSchema))
    missing = fields.String(metadata={
        "description": "What a rate without a value counts as (GRIDSNAP_INDICATOR_MISSING)."})
    rows = fields.List(fields.Nested(RankingRowSchema))


class PopulationSchema(Schema):
    code = fields.String()
    level = fields.String()
    name = fields.String(allow_none=True)
    name_en = fields.String(allow_none=True)
    population = fields.Integer()
    source = fields.String(allow_none=True)
    updated_at = AwareDateTime()


class PopulationQuerySchema(Schema):
    area = _AREA


class CallTakerQuerySchema(Schema):
    period = fields.String(validate=validate.Regexp(MONTH_PATTERN), metadata={
        "description": "A month, YYYY-MM, in the deployment's time zone (default: this month)."})
    from_ = Date(data_key="from", metadata={
        "description": "First day of a custom period (with `to`), both days included."})
    to = Date(metadata={"description": "Last day of a custom period."})
    area = _AREA


class CallTakerUserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    role = fields.String()


class CallTakerFiguresSchema(Schema):
    calls = fields.Integer(metadata={"description": "受理数: hotline calls recorded (consultations "
                                                    "included), by their receipt."})
    consultations = fields.Integer(metadata={"description": "咨询: of them, consultations."})
    timed_calls = fields.Integer(metadata={"description": (
        "Calls recorded within handling_max_seconds of their start: those timed.")})
    callbacks = fields.Integer(metadata={"description": "回访次数: callback tries recorded."})
    callbacks_reached = fields.Integer(metadata={"description": "回访接通数: of them, reached."})
    callback_reach_rate = fields.Float(allow_none=True, metadata={
        "description": "回访接通率 (%): reached ÷ tries; null without a try."})
    average_handling_seconds = fields.Float(allow_none=True, metadata={
        "description": "平均受理时长 (s): the mean time from a timed call's start (called_at) "
                       "to its request recorded; null without a timed call."})


class CallTakerRowSchema(CallTakerFiguresSchema):
    user = fields.Nested(CallTakerUserSchema)


class CallTakerTableSchema(Schema):
    period = fields.Nested(PeriodSchema)
    area = fields.String(allow_none=True)
    handling_max_seconds = fields.Integer()
    rows = fields.List(fields.Nested(CallTakerRowSchema))
    total = fields.Nested(CallTakerFiguresSchema)
