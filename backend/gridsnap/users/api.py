"""Log in and out: bearer tokens for the PWA and other clients."""

from __future__ import annotations

from flask import request
from flask.views import MethodView

from ..edge import Blueprint, ErrorSchema
from ..extensions import db_session, runtime, settings
from . import permissions, service
from .auth import SECURITY, auth_required, current_principal
from .schemas import (
    AdminUserSchema,
    TokenRequestSchema,
    TokenSchema,
    UserInSchema,
    UserPatchSchema,
    UserSchema,
)

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Log in and out")


@blp.route("/token")
class TokenResource(MethodView):
    @blp.arguments(TokenRequestSchema)
    @blp.response(201, TokenSchema)
    @blp.alt_response(429, schema=ErrorSchema, description="auth.too_many_attempts: too many failed logins for "
                      "this account or from this address; wait Retry-After seconds.")
    def post(self, body):
        """Log in: a bearer token valid for offline field work (30 days by default)."""
        raw, expires_at, user = service.issue_token(
            db_session(), body["username"], body["password"],
            ttl_days=settings().token_ttl_days, label=body.get("label"),
            redis=runtime().redis, address=request.remote_addr or "")
        return {"token": raw, "token_type": "Bearer", "expires_at": expires_at, "user": user}

    @blp.doc(security=SECURITY)
    @blp.response(204)
    @auth_required
    def delete(self):
        """Log out: revoke the token this request carries."""
        service.revoke_token(db_session(), current_principal().token_id, runtime().redis)


@blp.route("/me")
class MeResource(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, UserSchema)
    @auth_required
    def get(self):
        """The logged-in user, with role and scopes."""
        return current_principal()


admin_blp = Blueprint("admin_users", __name__, url_prefix="/admin/users",
                      description="Users and their scopes (admins)")


def _require_admin():
    permissions.require(current_principal(), permissions.MANAGE_USERS)


@admin_blp.route("")
class AdminUsers(MethodView):
    @admin_blp.doc(security=SECURITY)
    @auth_required
    @admin_blp.response(200, AdminUserSchema(many=True))
    def get(self):
        """The users this admin manages (whose scopes lie within its own) with role, scopes
        and whether disabled."""
        _require_admin()
        return service.list_users(db_session(), current_principal())

    @admin_blp.doc(security=SECURITY)
    @auth_required
    @admin_blp.arguments(UserInSchema)
    @admin_blp.response(201, AdminUserSchema)
    def post(self, body):
        """Add a user, with scopes within the admin's own (else 403)."""
        _require_admin()
        return service.add_user(
            db_session(), username=body["username"], display_name=body["display_name"],
            role=body["role"], password=body["password"], scopes=body["scopes"],
            department_code=body.get("department"), actor=current_principal())


@admin_blp.route("/<username>")
class AdminUser(MethodView):
    @admin_blp.doc(security=SECURITY)
    @auth_required
    @admin_blp.arguments(UserPatchSchema)
    @admin_blp.response(200, AdminUserSchema)
    def patch(self, body, username: str):
        """Change a user's scopes, or disable them (their tokens are revoked). Only a user this
        admin manages (else 404), to scopes within its own (else 403); never itself disabled."""
        _require_admin()
        return service.update_user(db_session(), current_principal(), username,
                                   scopes=body.get("scopes"), disabled=body.get("disabled"),
                                   redis=runtime().redis)
