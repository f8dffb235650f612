"""Shapes of export requests: the case list's filters, plus days of receipt."""

from marshmallow import Schema, fields, validate

from ..cases.rules import SOURCES, STATUSES
from ..schemas import Date


class CaseExportQuerySchema(Schema):
    status = fields.List(fields.String(validate=validate.OneOf(STATUSES)))
    category = fields.String(validate=validate.Length(max=8))
    department = fields.String(validate=validate.Length(max=40))
    source = fields.String(validate=validate.OneOf(SOURCES))
    area = fields.String(validate=validate.Regexp(r"^[0-9]{1,15}$"),
                         metadata={"description": "An area code prefix."})
    from_ = Date(data_key="from", metadata={
        "description": "First day of receipt (deployment time zone), included."})
    to = Date(metadata={"description": "Last day of receipt, included."})
    overdue = fields.Boolean()
    with_callers = fields.Boolean(load_default=False, metadata={
        "description": "Admins only (else 403 export.callers_forbidden): add the callers' "
                       "name, phone, e-mail and anonymity; every exported case with a caller "
                       "gets a caller.viewed event on its audit trail."})
