"""Routing rules over HTTP (data, editable by supervisors and admins)."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from ..auth import SECURITY, auth_required, current_principal
from ..edge import Blueprint
from ..errors import AppError
from ..extensions import db_session
from ..schemas import AwareDateTime
from . import queries, service

blp = Blueprint("routing", __name__, url_prefix="/routing-rules",
                description="精准派单: category × area → department")


class RuleInSchema(Schema):
    category = fields.String(allow_none=True, validate=validate.Length(max=8),
                             metadata={"description": "None: every category."})
    area_prefix = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{0,15}$"))
    department = fields.String(required=True, validate=validate.Length(min=1, max=40))
    note = fields.String(validate=validate.Length(max=500))


class RuleSchema(Schema):
    id = fields.Integer()
    category = fields.String(attribute="category_code", allow_none=True)
    area_prefix = fields.String()
    department = fields.String(attribute="department_code")
    note = fields.String(allow_none=True)
    active = fields.Boolean()
    created_at = AwareDateTime()
    created_by = fields.String(allow_none=True)


def _require_editor():
    p = current_principal()
    if p.role not in ("supervisor", "admin"):
        raise AppError("auth.forbidden", "Only supervisors and admins edit routing rules.")
    return p


@blp.route("")
class Rules(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.response(200, RuleSchema(many=True))
    def get(self):
        """The active rules, strongest first."""
        return queries.list_rules(db_session())

    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(RuleInSchema)
    @blp.response(201, RuleSchema)
    def post(self, body):
        """Add a rule; a supervisor only for an area within their scope."""
        p = _require_editor()
        if not p.covers_area(body["area_prefix"] or None) and not p.sees_everything:
            raise AppError("auth.forbidden", "That area is outside your scope.",
                           {"area_prefix": ["Outside your scope."]})
        return service.add_rule(db_session(), category_code=body.get("category"),
                                area_prefix=body["area_prefix"],
                                department_code=body["department"], note=body.get("note"),
                                created_by_id=p.id)


@blp.route("/<int:rule_id>")
class RuleResource(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.response(204)
    def delete(self, rule_id: int):
        """Retire a rule (kept for the record: dispatches name the rule that chose them)."""
        _require_editor()
        service.remove_rule(db_session(), rule_id)
