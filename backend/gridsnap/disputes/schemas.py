"""Shapes of disputes at the API edge."""

from marshmallow import Schema, fields, validate

from ..grid.schemas import LocationSchema
from ..schemas import AwareDateTime, Date
from .rules import (
    GROUPINGS,
    KINDS,
    PARTIES_MAX,
    PHOTO_SIZES,
    RISKS,
    STATUSES,
    STEPS,
    TRANSFER_BODIES,
)

_PHONE = validate.Regexp(r"^[0-9+() -]{3,32}$", error="A phone number: digits, + ( ) - and spaces.")


class PartySchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    phone = fields.String(allow_none=True, load_default=None, validate=_PHONE)


class DisputeInSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS),
                         metadata={"description": "邻里 neighbours, 婚姻家庭 family, 物业 property, "
                                                  "劳资 labour, 土地 land, other."})
    risk = fields.String(required=True, validate=validate.OneOf(RISKS),
                         metadata={"description": "normal, elevated, or may_escalate (可能激化: "
                                                  "the street's 综治 office is told at once)."})
    parties = fields.List(fields.Nested(PartySchema), required=True,
                          validate=validate.Length(min=1, max=PARTIES_MAX))
    description = fields.String(load_default="", validate=validate.Length(max=2000))
    address = fields.String(allow_none=True, validate=validate.Length(max=300))
    location = fields.Nested(LocationSchema, required=True)
    captured_at = AwareDateTime(required=True,
                                metadata={"description": "When the device recorded it."})


class SessionInSchema(Schema):
    held_on = Date(required=True)
    participants = fields.List(fields.String(validate=validate.Length(min=1, max=100)),
                               required=True, validate=validate.Length(min=1, max=30))
    notes = fields.String(load_default="", validate=validate.Length(max=4000))


class TransferInSchema(Schema):
    to = fields.String(required=True, validate=validate.OneOf(TRANSFER_BODIES),
                       metadata={"description": "police 公安, court 法院, petition 信访, other."})
    body = fields.String(required=True, validate=validate.Length(min=1, max=200),
                         metadata={"description": "The receiving body, by name."})


class FollowUpInSchema(Schema):
    visited_on = Date(required=True)
    holds = fields.Boolean(required=True, metadata={"description": "The agreement holds."})
    notes = fields.String(load_default="", validate=validate.Length(max=4000))


class StepInSchema(Schema):
    step = fields.String(required=True, validate=validate.OneOf(tuple(STEPS)),
                         metadata={"description": "accept 受理, hold_session 调解, agree 达成协议, "
                                                  "transfer 转交, follow_up 回访."})
    client_step_id = fields.UUID(load_default=None, metadata={
        "description": "Made by the phone: the same step sent again (a lost answer, a retry "
                       "from the outbox) is answered as the dispute now stands, not taken twice."})
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))
    session = fields.Nested(SessionInSchema)
    agreement = fields.String(validate=validate.Length(max=4000))
    transfer = fields.Nested(TransferInSchema)
    follow_up = fields.Nested(FollowUpInSchema)


class PartyOutSchema(Schema):
    name = fields.String()
    phone = fields.String(allow_none=True)
    masked = fields.Boolean()


class DisputeLocationSchema(Schema):
    lon = fields.Float()
    lat = fields.Float()
    accuracy_m = fields.Float(allow_none=True)


class DisputeStepSchema(Schema):
    id = fields.Integer()
    at = AwareDateTime()
    actor_id = fields.Integer(allow_none=True)
    actor_name = fields.String(allow_none=True)
    action = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    data = fields.Dict()


class AgreementPhotoSchema(Schema):
    id = fields.UUID(metadata={"description": "The phone's id of the photo."})
    sha256 = fields.String(metadata={"description": "SHA-256 of the bytes sent (hex)."})
    content_type = fields.String()
    size_bytes = fields.Integer()
    width = fields.Integer()
    height = fields.Integer()
    uploaded_at = AwareDateTime()
    uploader_id = fields.Integer()
    uploader_name = fields.String()
    urls = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "The sizes you may fetch: thumb, display (JPEG without metadata) and, "
                       "for the uploader and the 综治 office, the original."})


class AgreementPhotoQuerySchema(Schema):
    size = fields.String(load_default="display", validate=validate.OneOf(PHOTO_SIZES))


class DisputeSchema(Schema):
    id = fields.UUID()
    number = fields.Integer()
    reporter_id = fields.Integer()
    reporter_name = fields.String()
    kind = fields.String()
    risk = fields.String()
    description = fields.String()
    address = fields.String(allow_none=True)
    location = fields.Nested(DisputeLocationSchema)
    area_code = fields.String(allow_none=True)
    area_name = fields.String(allow_none=True)
    captured_at = AwareDateTime()
    received_at = AwareDateTime()
    status = fields.String(metadata={"description": ", ".join(STATUSES)})
    accept_due_at = AwareDateTime()
    accepted_at = AwareDateTime(allow_none=True)
    resolve_due_at = AwareDateTime(allow_none=True)
    resolved_at = AwareDateTime(allow_none=True)
    follow_up_due_at = AwareDateTime(allow_none=True)
    closed_at = AwareDateTime(allow_none=True)
    escalated_at = AwareDateTime(allow_none=True)
    agreement = fields.String(allow_none=True)
    transferred_to = fields.String(allow_none=True)
    transferred_body = fields.String(allow_none=True)
    parties = fields.List(fields.Nested(PartyOutSchema))
    agreement_photos = fields.List(fields.Nested(AgreementPhotoSchema), metadata={
        "description": "Photos of the signed agreement (人民调解协议书), in the order they came."})
    allowed_steps = fields.List(fields.String())
    may_unmask = fields.Boolean()
    steps = fields.List(fields.Nested(DisputeStepSchema))


class DisputeQuerySchema(Schema):
    status = fields.List(fields.String(validate=validate.OneOf(STATUSES)))
    steps = fields.Boolean(load_default=False, metadata={
        "description": "Each dispute with its trail (the mediator's desk keeps them offline)."})
    mine = fields.Boolean(load_default=False,
                          metadata={"description": "Only the disputes you reported."})


class DisputeGetQuerySchema(Schema):
    unmasked = fields.Boolean(load_default=False, metadata={
        "description": "The parties unmasked (mediators and 综治 office; on the trail)."})


class FiguresQuerySchema(Schema):
    start = AwareDateTime(required=True, data_key="from")
    end = AwareDateTime(required=True, data_key="to")
    by = fields.String(load_default="kind", validate=validate.OneOf(GROUPINGS))
    area = fields.String(load_default="", validate=validate.Regexp(r"^[0-9]{0,15}$"))


class FigureRowSchema(Schema):
    key = fields.String(allow_none=True, metadata={"description": "The kind or area code."})
    found = fields.Integer(metadata={"description": "排查数"})
    resolved = fields.Integer(metadata={"description": "化解数 (an agreement reached)"})
    resolution_rate = fields.Float(allow_none=True, metadata={"description": "化解率"})
    resolved_on_time = fields.Integer()
    on_time_rate = fields.Float(allow_none=True, metadata={"description": "按期化解率"})
    transferred = fields.Integer(metadata={"description": "转交数"})
    open = fields.Integer()
