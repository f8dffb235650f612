"""The evaluation over HTTP: indicator tables and 每月一题, scoped like everything else."""

from __future__ import annotations

from flask.views import MethodView

from ..edge import Blueprint
from ..extensions import read_session, settings
from ..users.auth import SECURITY, auth_required, current_principal
from . import service
from .schemas import (
    CallTakerQuerySchema,
    CallTakerTableSchema,
    IndicatorQuerySchema,
    IndicatorTableSchema,
    PopulationQuerySchema,
    PopulationSchema,
    RankingQuerySchema,
    RankingSchema,
    TopProblemsQuerySchema,
    TopProblemsSchema,
)

blp = Blueprint("stats", __name__, url_prefix="/stats",
                description="综合评价: indicators per area, department, category, major class, source "
                            "and post; 每月一题; the monthly 考评 ranking")


@blp.route("/indicators")
class Indicators(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(IndicatorQuerySchema, location="query")
    @blp.response(200, IndicatorTableSchema)
    def get(self, query):
        """立案数, 应结案数, 结案率, 按期结案率, 立案率, 派遣准确率, 处置率, 核查率, 超期率, 返工率,
        报到率, 督办, 挂账数, 综合指标值 … per group (area level, department, category, 部件/事件,
        大类, source, 监督员, 处置人员) and in total, over the cases you may see (definitions:
        docs/indicators.md). Grouped by department, 报到 and 督办 count for the department
        summoned or noticed."""
        return service.indicator_table(
            read_session(), current_principal(), settings(), group=query["group"],
            period=query.get("period"), first=query.get("from_"), last=query.get("to"),
            area=query.get("area"), source=query.get("source"))


@blp.route("/top-problems")
class TopProblems(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(TopProblemsQuerySchema, location="query")
    @blp.response(200, TopProblemsSchema)
    def get(self, query):
        """每月一题: the classes of problem (category × area) that recur most in the month,
        their trend over the months before, and the cells where they cluster."""
        return service.top_problems(
            read_session(), current_principal(), settings(), period=query.get("period"),
            area=query.get("area"), level=query["level"], limit=query["limit"],
            cells=query["cells"], source=query.get("source"))


@blp.route("/ranking")
class Ranking(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(RankingQuerySchema, location="query")
    @blp.response(200, RankingSchema)
    def get(self, query):
        """The monthly 考评 ranking of streets (or districts, communities, departments) by the
        weighted three rates (三率, after 剔除 and 核减), with requests per 10,000 residents and
        the places gained since last month (docs/indicators.md), over the cases you may see."""
        return service.ranking(read_session(), current_principal(), settings(),
                               group=query["group"], period=query.get("period"),
                               area=query.get("area"))


@blp.route("/call-takers")
class CallTakers(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(CallTakerQuerySchema, location="query")
    @blp.response(200, CallTakerTableSchema)
    def get(self, query):
        """The hotline's own figures per call-taker (话务员) and in total: calls taken,
        callbacks (回访) made and reached, and the average handling time from a call's start to
        its request recorded (docs/indicators.md), over the cases you may see."""
        return service.call_taker_table(read_session(), current_principal(), settings(),
                                        period=query.get("period"), first=query.get("from_"),
                                        last=query.get("to"), area=query.get("area"))


@blp.route("/populations")
class Populations(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(PopulationQuerySchema, location="query")
    @blp.response(200, PopulationSchema(many=True))
    def get(self, query):
        """The residents of each area (常住人口) the ranking divides by, as imported
        (`gridsnap stats populations FILE.csv`)."""
        return service.list_populations(read_session(), query.get("area"))
