"""Campaigns (专项) over HTTP."""

from __future__ import annotations

from flask.views import MethodView

from ..edge import Blueprint
from ..extensions import db_session, settings
from ..users.auth import SECURITY, auth_required, current_principal
from . import service
from .schemas import (
    CampaignEndSchema,
    CampaignInSchema,
    CampaignListQuerySchema,
    CampaignSchema,
    CampaignSummarySchema,
    HotSpotQuerySchema,
    HotSpotsSchema,
    ProgrammeInSchema,
)

blp = Blueprint("campaigns", __name__, url_prefix="/campaigns",
                description="专项 and 每月一题: take on a whole class of problem, see whether it "
                            "recurs; 主动治理: the month's hot spots")


@blp.route("")
class Campaigns(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(CampaignListQuerySchema, location="query")
    @blp.response(200, CampaignSummarySchema(many=True))
    def get(self, query):
        """The campaigns (kind=campaign) and 每月一题 programmes (kind=monthly_topic) of your
        area, latest first, with their linked cases by status."""
        return service.list_campaigns(db_session(), current_principal(), query.get("kind"))

    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(CampaignInSchema)
    @blp.response(201, CampaignSchema)
    @blp.alt_response(403, description="auth.forbidden, campaign.outside_scope")
    def post(self, body):
        """Start a campaign (supervisors, admins): links the cases of the category under the
        area prefix received in its days, or before them and still open."""
        return service.start_campaign(db_session(), current_principal(), settings(), body)


@blp.route("/<int:campaign_id>")
class CampaignResource(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.response(200, CampaignSchema)
    def get(self, campaign_id: int):
        """The campaign, its cases by status, and whether the class recurs after it."""
        return service.get_campaign(db_session(), current_principal(), settings(), campaign_id)

    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(CampaignEndSchema)
    @blp.response(200, CampaignSchema)
    def patch(self, body, campaign_id: int):
        """End the campaign (supervisors and admins of its area): its last day becomes ends_on,
        today by default."""
        return service.end_campaign(db_session(), current_principal(), settings(), campaign_id,
                                    body.get("ends_on"))

    @blp.doc(security=SECURITY)
    @auth_required
    @blp.response(204)
    def delete(self, campaign_id: int):
        """Delete the campaign and its links (supervisors and admins of its area); the cases
        stay as they are."""
        service.delete_campaign(db_session(), current_principal(), campaign_id)


@blp.route("/<int:campaign_id>/links")
class CampaignLinks(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.response(200, CampaignSchema)
    def post(self, campaign_id: int):
        """Link the cases of the class that came in since (idempotent)."""
        return service.relink_campaign(db_session(), current_principal(), settings(),
                                       campaign_id)


@blp.route("/<int:campaign_id>/programme")
class CampaignProgramme(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(ProgrammeInSchema)
    @blp.response(200, CampaignSchema)
    def put(self, body, campaign_id: int):
        """每月一题 as a programme: its lead department (牵头单位) and its measures (举措, each
        with the day it was done), replaced as given (supervisors and admins of its area)."""
        return service.set_programme(db_session(), current_principal(), settings(),
                                     campaign_id, body)


@blp.route("/hot-spots")
class HotSpots(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(HotSpotQuerySchema, location="query")
    @blp.response(200, HotSpotsSchema)
    def get(self, query):
        """主动治理: where cases of one category concentrate in one area this month against the
        months before (hotline requests and grid reports together; at least min_count cases
        and factor times the monthly average before), each with the campaigns or 每月一题 that
        take it on."""
        return service.hot_spots(db_session(), current_principal(), settings(),
                                 period=query.get("period"), level=query["level"],
                                 area=query.get("area"), min_count=query["min_count"],
                                 factor=query["factor"])
