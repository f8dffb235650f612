"""Shapes of a hotline call, a callback and a caller at the API edge."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..cases.rules import NATURES, URGENCIES
from ..cases.schemas import CallbackInSchema, CaseSchema, RequestClassRefSchema
from ..grid.schemas import LocationSchema
from ..schemas import AwareDateTime


class CallerInSchema(Schema):
    name = fields.String(allow_none=True, validate=validate.Length(max=100))
    phone = fields.String(allow_none=True, validate=validate.Regexp(
        r"^[0-9+() -]{3,32}$", error="A phone number: digits, spaces, + ( ) -."))
    anonymous = fields.Boolean(load_default=False, metadata={
        "description": "The caller stays anonymous: the departments never see the name."})


class CallInSchema(Schema):
    """话务受理: one call as the call-taker records it."""

    caller = fields.Nested(CallerInSchema, load_default=dict)
    nature = fields.String(required=True, validate=validate.OneOf(NATURES), metadata={
        "description": "诉求性质: 咨询, 求助, 投诉, 举报, 建议, 表扬"})
    request_class = fields.String(validate=validate.Length(min=2, max=12), metadata={
        "description": "诉求分类: a class of the 12345 catalogue (GET /catalogue/search); it "
                       "names the category and, with the place, the unit (派单目录)."})
    category = fields.String(allow_none=True, validate=validate.Length(min=1, max=8), metadata={
        "description": "The 数字城管 category; needed only without a request class (else the "
                       "class's, unless given)."})
    description = fields.String(load_default="", validate=validate.Length(max=2000))
    urgency = fields.String(load_default="ordinary", validate=validate.OneOf(URGENCIES),
                            metadata={"description": "The hotline's time limit: emergency 2 h, "
                                                     "urgent 24 h, ordinary 7, complex 15 "
                                                     "working days (configurable)."})
    address = fields.String(allow_none=True, validate=validate.Length(max=300))
    address_id = fields.Integer(validate=validate.Range(min=1), metadata={
        "description": "An address point (门牌) the call-taker chose (GET /hotline/addresses): "
                       "the case gets its point and so its cell."})
    location = fields.Nested(LocationSchema, metadata={
        "description": "A point picked on the map (it wins); else the address point chosen; "
                       "else the typed address, resolved through the address points and then "
                       "the grid's area names."})
    called_at = AwareDateTime(required=True, metadata={
        "description": "When the call came in, with offset."})
    answer = fields.String(validate=validate.Length(min=1, max=2000), metadata={
        "description": "即时答复: a consultation answered on the call is closed at once with "
                       "this answer."})

    @validates_schema
    def _answer_only_for_consultations(self, data, **kwargs):
        if data.get("answer") and data.get("nature") != "consultation":
            raise ValidationError("Only a consultation (咨询) is answered on the call.",
                                  "answer")


class CallerSchema(Schema):
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    anonymous = fields.Boolean()
    masked = fields.Boolean(metadata={"description": "false only for call-takers and admins "
                                                     "who asked, and the view is audited."})


class HotlineCaseSchema(CaseSchema):
    caller = fields.Nested(CallerSchema, allow_none=True)


class CallbackRecordSchema(Schema):
    callback = fields.Nested(CallbackInSchema, required=True)
    reopen = fields.Boolean(load_default=False, metadata={
        "description": "不满意 or 未解决: reopen the case (重新办理) as rework; needs a note."})
    note = fields.String(validate=validate.Length(max=2000))
    client_action_id = fields.UUID()


class CallerQuerySchema(Schema):
    unmasked = fields.Boolean(load_default=False, metadata={
        "description": "Call-takers and admins; for 先行联系 the handler of the unit the "
                       "hotline case is dispatched to (the number only, with a reason). "
                       "Written to the audit trail."})
    reason = fields.String(validate=validate.Length(max=500), metadata={
        "description": "Why the number is needed (a handler must say, at least 4 characters)."})


class AddressQuerySchema(Schema):
    q = fields.String(required=True, validate=validate.Length(min=1, max=300))


class ResolvedAddressSchema(Schema):
    code = fields.String(metadata={"description": "The area it lies in (an address point's "
                                                  "cell), or the smallest area named."})
    level = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)
    lon = fields.Float()
    lat = fields.Float()
    source = fields.String(metadata={"description": "address: an address point (门牌); area: "
                                                    "by the grid's area names"})
    address = fields.String(allow_none=True, metadata={
        "description": "The standard address of the address point found."})
    address_en = fields.String(allow_none=True)
    address_id = fields.Integer(allow_none=True)


class AddressSearchSchema(Schema):
    q = fields.String(required=True, validate=validate.Length(min=1, max=300))


class CallerHistoryInSchema(Schema):
    phone = fields.String(required=True, validate=validate.Regexp(
        r"^[0-9+() -]{3,32}$", error="A phone number: digits, spaces, + ( ) -."))


class PlaceHistoryInSchema(Schema):
    request_class = fields.String(validate=validate.Length(min=2, max=12), metadata={
        "description": "诉求分类: the class chosen so far (its category if none is sent)."})
    category = fields.String(validate=validate.Length(min=1, max=16))
    location = fields.Nested(LocationSchema, metadata={"description": "The place picked."})
    address_id = fields.Integer(metadata={"description": "Or the address point (门牌) chosen."})


class RepeatCaseSchema(Schema):
    id = fields.UUID()
    number = fields.Integer()
    status = fields.String()
    received_at = AwareDateTime()
    description = fields.String()
    address = fields.String(allow_none=True)
    category = fields.String()
    request_class = fields.Nested(RequestClassRefSchema, allow_none=True)


class PlaceHistorySchema(Schema):
    requests = fields.Integer(metadata={"description": (
        "重复诉求: open requests of this class at this place, and those closed within the "
        "window (of those you may see).")})
    window_days = fields.Integer(metadata={"description": "GRIDSNAP_REPEAT_REQUEST_DAYS"})
    radius_m = fields.Integer(metadata={"description": "GRIDSNAP_REPEAT_REQUEST_RADIUS_M"})
    cases = fields.List(fields.Nested(RepeatCaseSchema), metadata={
        "description": "The nearest of them (at most 10), nearest first."})


class CallerHistorySchema(Schema):
    calls = fields.Integer(metadata={
        "description": "Cases from this number in the window (of those you may see)."})
    window_days = fields.Integer(metadata={"description": "GRIDSNAP_REPEAT_CALLER_DAYS"})
    cases = fields.List(fields.Nested(RepeatCaseSchema), metadata={
        "description": "The latest of them (at most 10), newest first."})
