"""Campaigns (专项) over HTTP."""

from __future__ import annotations

from flask.views import MethodView

from ..edge import Blueprint
from ..extensions import db_session, settings
from ..users.auth import SECURITY, auth_required, current_principal
from . import service
from .schemas import CampaignEndSchema, CampaignInSchema, CampaignSchema, CampaignSummarySchema

blp = Blueprint("campaigns", __name__, url_prefix="/campaigns",
                description="专项: take on a whole class of problem, see whether it recurs")


@blp.route("")
class Campaigns(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.response(200, CampaignSummarySchema(many=True))
    def get(self):
        """The campaigns of your area, latest first, with their linked cases by status."""
        return service.list_campaigns(db_session(), current_principal())

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
