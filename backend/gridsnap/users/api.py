"""Log in and out: bearer tokens for the PWA and other clients."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth import SECURITY, auth_required, current_principal
from ..extensions import db_session, settings
from . import service
from .schemas import TokenRequestSchema, TokenSchema, UserSchema

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Log in and out")


@blp.route("/token")
class TokenResource(MethodView):
    @blp.arguments(TokenRequestSchema)
    @blp.response(201, TokenSchema)
    def post(self, body):
        """Log in: a bearer token valid for offline field work (30 days by default)."""
        raw, expires_at, user = service.issue_token(
            db_session(), body["username"], body["password"],
            ttl_days=settings().token_ttl_days, label=body.get("label"))
        return {"token": raw, "token_type": "Bearer", "expires_at": expires_at, "user": user}

    @blp.doc(security=SECURITY)
    @blp.response(204)
    @auth_required
    def delete(self):
        """Log out: revoke the token this request carries."""
        service.revoke_token(db_session(), current_principal().token_id)


@blp.route("/me")
class MeResource(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, UserSchema)
    @auth_required
    def get(self):
        """The logged-in user, with role and scopes."""
        return current_principal()
