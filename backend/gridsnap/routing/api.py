"""Routing rules over HTTP (data, editable by supervisors and admins)."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from ..edge import Blueprint
from ..extensions import db_session
from ..schemas import AwareDateTime
from ..users.auth import SECURITY, auth_required, current_principal
from . import service

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
    editable = fields.Boolean(metadata={"description": "Whether you may retire it."})


@blp.route("")
class Rules(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.response(200, RuleSchema(many=True))
    def get(self):
        """The active rules within your scope and the broader ones that route your area,
        strongest first (supervisors and admins)."""
        return service.list_rules(db_session(), current_principal())

    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(RuleInSchema)
    @blp.response(201, RuleSchema)
    def post(self, body):
        """Add a rule; a supervisor only for an area within their scope."""
        p = current_principal()
        service.check_may_add(p, body["area_prefix"])
        rule = service.add_rule(db_session(), category_code=body.get("category"),
                                area_prefix=body["area_prefix"],
                                department_code=body["department"], note=body.get("note"),
                                created_by_id=p.id)
        return {**rule, "editable": True}


@blp.route("/<int:rule_id>")
class RuleResource(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.response(204)
    def delete(self, rule_id: int):
        """Retire a rule within your scope (kept for the record: dispatches name the rule that
        chose them)."""
        service.remove_rule(db_session(), current_principal(), rule_id)
