"""Shapes of cases and actions at the API edge."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..deadlines.rules import UNITS
from ..grid.schemas import AreaRefSchema, LocationOutSchema, LocationSchema
from ..photos.schemas import PhotoOutSchema
from ..schemas import AwareDateTime, Date, case_id_field
from .contact.rules import CONTACT_OUTCOMES
from .exclusion.rules import APPEAL_REASONS, EXCLUSION_REASONS
from .rules import (
    HUMAN_ACTIONS,
    MAX_CO_DEPARTMENTS,
    NATURES,
    NOTICE_GROUNDS,
    RETURN_REASONS,
    SATISFACTION,
    SOURCES,
    STAGES,
    STATUSES,
    SUSPENSION_REASONS,
    URGENCIES,
)


class ReportOutSchema(Schema):
    """A case as a report: what the field sees."""

    id = fields.UUID()
    number = fields.Integer(metadata={"description": "The case number people use."})
    status = fields.String()
    category = fields.String()
    description = fields.String()
    address = fields.String(allow_none=True)
    location = fields.Nested(LocationOutSchema)
    captured_at = AwareDateTime()
    received_at = AwareDateTime()
    updated_at = AwareDateTime()
    reporter_id = fields.Integer()
    outside_grid = fields.Boolean()
    area_code = fields.String(allow_none=True)
    cell = fields.Nested(AreaRefSchema, allow_none=True)
    community = fields.Nested(AreaRefSchema, allow_none=True)
    street = fields.Nested(AreaRefSchema, allow_none=True)
    district = fields.Nested(AreaRefSchema, allow_none=True)
    department = fields.String(allow_none=True, metadata={"description": "Dispatched to."})
    suggested_department = fields.String(
        allow_none=True, metadata={"description": "What the routing rules suggest (精准派单)."})
    due_at = AwareDateTime(allow_none=True,
                                  metadata={"description": "The running stage's deadline."})
    source = fields.String(validate=validate.OneOf(SOURCES), metadata={
        "description": "Where it came from: worker, hotline (12345), open311, other."})
    nature = fields.String(allow_none=True, metadata={
        "description": "诉求性质 of a hotline call: " + ", ".join(NATURES)})
    urgency = fields.String(allow_none=True, metadata={
        "description": "The hotline's time limit class: " + ", ".join(URGENCIES)})


class ReportDetailSchema(ReportOutSchema):
    photos = fields.List(fields.Nested(PhotoOutSchema))


class ExtensionSchema(Schema):
    """延期: {amount, unit}, or the short form of the time limits {limit: "7d"}."""

    amount = fields.Integer(validate=validate.Range(1, 10000))
    unit = fields.String(validate=validate.OneOf(UNITS), metadata={
        "description": "hours, working_hours, working_days or days (calendar days, 日)."})
    limit = fields.String(validate=validate.Regexp(r"^[0-9]{1,5}(wd|wh|d|h)$"), metadata={
        "description": "Instead of amount and unit, as GRIDSNAP_HOTLINE_TIME_LIMITS writes "
                       "them: 7d (calendar days), 7wd (working days), 24h, 2wh.",
        "example": "7wd"})

    @validates_schema
    def _one_form(self, data, **kwargs):
        if "limit" in data:
            if "amount" in data or "unit" in data:
                raise ValidationError("Give limit, or amount and unit, not both.", "limit")
            return
        missing = {k: ["Missing data for required field."] for k in ("amount", "unit")
                   if k not in data}
        if missing:
            raise ValidationError(missing)


class CallbackInSchema(Schema):
    """回访: reached the caller or not; reached, their answers."""

    reached = fields.Boolean(required=True)
    responded = fields.Boolean(metadata={"description": "响应: did they get an answer?"})
    solved = fields.Boolean(metadata={"description": "解决: is it solved?"})
    satisfaction = fields.String(validate=validate.OneOf(SATISFACTION),
                                 metadata={"description": "满意 / 基本满意 / 不满意"})


class ContactInSchema(Schema):
    """先行联系: one try at reaching the caller."""

    outcome = fields.String(required=True, validate=validate.OneOf(CONTACT_OUTCOMES), metadata={
        "description": "reached, no_answer, busy, wrong_number, declined"})
    contacted_at = AwareDateTime(metadata={
        "description": "When (RFC 3339); default now. Not in the future, not before the "
                       "dispatch."})


class ExclusionInSchema(Schema):
    reason_kind = fields.String(required=True, validate=validate.OneOf(EXCLUSION_REASONS),
                                metadata={"description": "不合理诉求: unreasonable, duplicate "
                                          "(重复诉求), outside_duty (非政府职责)."})


class AppealInSchema(Schema):
    reason_kind = fields.String(required=True, validate=validate.OneOf(APPEAL_REASONS),
                                metadata={"description": "申诉: " + ", ".join(APPEAL_REASONS)})


class PendingExclusionSchema(Schema):
    kind = fields.String(metadata={"description": "exclusion (不合理诉求) or appeal (申诉)"})
    reason_kind = fields.String()
    reason = fields.String()
    department = fields.String(attribute="department_code", allow_none=True)
    requested_at = AwareDateTime()


class ActionInSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(sorted(HUMAN_ACTIONS)))
    client_action_id = fields.UUID(metadata={
        "description": "Made by the client; the same id again is answered without acting twice."})
    note = fields.String(validate=validate.Length(max=2000), metadata={
        "description": "Internal (内部意见): staff see it in the trail; never shown outside."})
    public_note = fields.String(validate=validate.Length(max=2000), metadata={
        "description": "The public reply (公开答复): the only text of the trail Open311 shows "
                       "(status_notes); staff write it on purpose, apart from the note."})
    photo_ids = fields.List(fields.UUID(), validate=validate.Length(max=10))
    location = fields.Nested(LocationSchema, metadata={
        "description": "Where the worker stands (verify_pass: within 50 m of the case)."})
    department = fields.String(validate=validate.Length(min=1, max=40), metadata={
        "description": "dispatch: overrides the routing; approve_return: dispatch there next."})
    reason = fields.String(validate=validate.OneOf(RETURN_REASONS),
                           metadata={"description": "return (退单): why."})
    reason_kind = fields.String(validate=validate.OneOf(SUSPENSION_REASONS), metadata={
        "description": "request_suspension (挂账): funding, planning, court, other."})
    review_on = Date(metadata={
        "description": "request_suspension: the review date (after today, at most "
                       "GRIDSNAP_SUSPENSION_MAX_DAYS ahead, in the deployment's time zone)."})
    target_case_id = fields.UUID(metadata={"description": "merge: the primary case."})
    ground = fields.String(validate=validate.OneOf(NOTICE_GROUNDS), metadata={
        "description": "issue_notice: the ground of a 督办 on any case (领导批示, 媒体曝光, "
                       "群众反复投诉, other); an overdue case, or one handed back or reworked "
                       "twice, has its own."})
    extension = fields.Nested(ExtensionSchema)
    callback = fields.Nested(CallbackInSchema, metadata={"description": "callback: 回访."})
    exclusion = fields.Nested(ExclusionInSchema, metadata={
        "description": "request_exclusion: why the request should leave the rates (the note "
                       "gives the reasons)."})
    appeal = fields.Nested(AppealInSchema, metadata={
        "description": "appeal: 申诉 of the rated result (the note gives the reasons)."})
    contact = fields.Nested(ContactInSchema, metadata={
        "description": "record_contact: 先行联系, one try at reaching the caller."})
    lead_department = fields.String(validate=validate.Length(min=1, max=40), metadata={
        "description": "whistle (吹哨): the lead department (主办)."})
    co_departments = fields.List(
        fields.String(validate=validate.Length(min=1, max=40)),
        validate=validate.Length(max=50), metadata={
            "description": f"whistle: the co-departments (协办), 1 to {MAX_CO_DEPARTMENTS}, "
                           "distinct, not the lead."})
    notice_id = fields.UUID(metadata={
        "description": "reply_notice: the notice (督办) answered; default: your oldest open one."})


class PendingExtensionSchema(Schema):
    amount = fields.Integer()
    unit = fields.String()
    reason = fields.String()
    requested_at = AwareDateTime()


class PendingReturnSchema(Schema):
    """退单审核: the department's return waiting for a supervisor."""

    reason = fields.String(metadata={"description": ", ".join(RETURN_REASONS)})
    note = fields.String(allow_none=True)
    department = fields.String(allow_none=True, metadata={"description": "Who returned it."})
    requested_at = AwareDateTime()


class SuspensionSchema(Schema):
    """挂账/缓办: asked for (pending) or in force (approved)."""

    status = fields.String(metadata={"description": "pending, approved"})
    reason_kind = fields.String(metadata={"description": ", ".join(SUSPENSION_REASONS)})
    note = fields.String(allow_none=True)
    review_on = Date(metadata={"description": "The review date: back then."})
    department = fields.String(allow_none=True)
    requested_at = AwareDateTime()
    decided_at = AwareDateTime(allow_none=True)


class LinkedCaseSchema(Schema):
    id = fields.UUID()
    number = fields.Integer()
    status = fields.String()
    category_code = fields.String()
    received_at = AwareDateTime()
    distance_m = fields.Float()
    description = fields.String()
    repeat = fields.Boolean(metadata={"description": (
        "重复诉求: a 12345 request of the same class at the same place (open, or closed "
        "within GRIDSNAP_REPEAT_REQUEST_DAYS before the later one came in).")})


class DuplicateSchema(Schema):
    id = fields.UUID()
    number = fields.Integer()


class JointParticipantSchema(Schema):
    department = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)
    role = fields.String(metadata={"description": "lead (主办) or co (协办)"})
    summoned_at = AwareDateTime()
    report_due_at = AwareDateTime(metadata={"description": "报到: report in by then."})
    reported_in_at = AwareDateTime(allow_none=True)
    reported_in_by = fields.String(allow_none=True)
    late = fields.Boolean(allow_none=True, metadata={
        "description": "Reported in after report_due_at; null until it reports in."})
    report_in_overdue = fields.Boolean(metadata={
        "description": "Not reported in and past report_due_at."})
    feedback = fields.String(allow_none=True)
    fed_back_at = AwareDateTime(allow_none=True)
    fed_back_by = fields.String(allow_none=True)


class JointSchema(Schema):
    """吹哨报到: a joint case's departments and their report-in and feedback."""

    lead = fields.String()
    co = fields.List(fields.String())
    participants = fields.List(fields.Nested(JointParticipantSchema))
    not_reported_in = fields.List(fields.String())
    feedback_missing = fields.List(fields.String())


class NoticeSchema(Schema):
    """督办: a supervision notice to a department and its reply."""

    id = fields.UUID()
    department_code = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)
    issued_at = AwareDateTime()
    issued_by = fields.String()
    note = fields.String()
    ground = fields.String(allow_none=True, metadata={
        "description": "Why it was issued: overdue, repeated (handed back or reworked twice), "
                       "leader_instruction (领导批示), media_exposure (媒体曝光), "
                       "repeated_complaints (群众反复投诉), other; null on a notice issued before "
                       "grounds were kept."})
    reply_due_at = AwareDateTime()
    replied_at = AwareDateTime(allow_none=True)
    replied_by = fields.String(allow_none=True)
    reply = fields.String(allow_none=True)
    state = fields.String(metadata={"description": "open, replied, overdue (open, past due)"})
    late = fields.Boolean(allow_none=True, metadata={
        "description": "Replied after reply_due_at; null until replied."})


class NoticeListItemSchema(NoticeSchema):
    report_id = case_id_field()
    number = fields.Integer()
    status = fields.String()
    category_code = fields.String()
    description = fields.String()


class NoticeQuerySchema(Schema):
    state = fields.String(validate=validate.OneOf(("open", "replied", "overdue")))


class RequestClassRefSchema(Schema):
    code = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)


class AddressPointRefSchema(Schema):
    id = fields.Integer()
    address = fields.String()
    address_en = fields.String(allow_none=True)


class CaseSchema(ReportDetailSchema):
    request_class = fields.Nested(RequestClassRefSchema, allow_none=True, metadata={
        "description": "诉求分类: the 12345 catalogue's class of a hotline case (null for "
                       "other cases)."})
    address_point = fields.Nested(AddressPointRefSchema, allow_none=True, metadata={
        "description": "The address point (门牌) a call was placed at (null when none was "
                       "chosen)."})
    repeat_request = fields.Boolean(metadata={"description": (
        "重复诉求: this 12345 request is linked to an earlier request of its class at the same "
        "place (the links are among possible_duplicates, marked repeat).")})
    due_at_estimated = fields.Boolean(metadata={"description": (
        "The running deadline was counted over a year without official holiday data (the "
        "State Council's notice): an estimate, which may move when the notice is added and "
        "the deadline recomputed.")})
    due_at_guessed_years = fields.List(fields.Integer(), metadata={
        "description": "The years without official holiday data the deadline was counted over."})
    due_at_estimated_reason = fields.String(allow_none=True, metadata={
        "description": "Why the deadline is an estimate, in a sentence (null when it is not)."})
    stage = fields.String(allow_none=True, metadata={"description": "accept, handle, verify"})
    stage_started_at = AwareDateTime(allow_none=True)
    overdue = fields.Boolean()
    overdue_at = AwareDateTime(allow_none=True)
    escalation_level = fields.Integer()
    version = fields.Integer(metadata={"description": "Also the ETag; send it as If-Match."})
    suggested_department = fields.String(allow_none=True)
    routing_source = fields.String(allow_none=True, metadata={
        "description": "catalogue (the dispatch catalogue, 派单目录), rule, category, area, "
                       "manual"})
    routing_rule_id = fields.Integer(allow_none=True)
    responsible_department = fields.String(allow_none=True)
    accepted_at = AwareDateTime(allow_none=True)
    dispatched_at = AwareDateTime(allow_none=True)
    signed_at = AwareDateTime(allow_none=True)
    resolved_at = AwareDateTime(allow_none=True)
    closed_at = AwareDateTime(allow_none=True)
    verifier_id = fields.Integer(allow_none=True)
    reporter_name = fields.String(allow_none=True, metadata={
        "description": "Who reported it (a staff account's display name), for a handler to ask."})
    rework_count = fields.Integer()
    return_count = fields.Integer()
    duplicate_of = fields.UUID(allow_none=True)
    outcome = fields.String(metadata={"description": "A duplicate follows its primary case."})
    pending_extension = fields.Nested(PendingExtensionSchema, allow_none=True)
    pending_return = fields.Nested(PendingReturnSchema, allow_none=True)
    suspension = fields.Nested(SuspensionSchema, allow_none=True)
    exclusion = fields.Nested(PendingExclusionSchema, allow_none=True, metadata={
        "description": "A unit's exclusion (不合理诉求) or appeal (申诉) awaiting the centre."})
    callback_status = fields.String(allow_none=True, metadata={
        "description": "回访: pending, done, negative (不满意 or 未解决), unreachable."})
    callback_attempts = fields.Integer()
    allowed_actions = fields.List(fields.String())
    joint = fields.Nested(JointSchema, allow_none=True, metadata={
        "description": "吹哨报到: null unless a joint case."})
    notices = fields.List(fields.Nested(NoticeSchema), metadata={"description": "督办"})
    notice_due = fields.Boolean(metadata={
        "description": "Overdue, or handed back or reworked twice: a notice (督办) may be issued."})
    possible_duplicates = fields.List(fields.Nested(LinkedCaseSchema), metadata={
        "description": "The nearest few possible duplicates (at most 5), nearest first; all "
                       "of them, a page at a time, at /cases/{id}/possible-duplicates."})
    possible_duplicates_total = fields.Integer(metadata={
        "description": "How many possible duplicates the case has that you may see."})
    duplicates = fields.List(fields.Nested(DuplicateSchema))


class CaseQuerySchema(Schema):
    status = fields.List(fields.String(validate=validate.OneOf(STATUSES)))
    stage = fields.String(validate=validate.OneOf(STAGES))
    overdue = fields.Boolean()
    department = fields.String(validate=validate.Length(max=40))
    category = fields.String(validate=validate.Length(max=8))
    source = fields.String(validate=validate.OneOf(SOURCES))
    area = fields.String(validate=validate.Regexp(r"^[0-9]{1,15}$"),
                         metadata={"description": "An area code prefix."})
    bbox = fields.String(metadata={"description": "minlon,minlat,maxlon,maxlat"})
    updated_since = AwareDateTime()
    order = fields.String(validate=validate.OneOf(("received", "due")), load_default="received")


class EventSchema(Schema):
    id = fields.Integer()
    at = AwareDateTime()
    action = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    note = fields.String(allow_none=True, metadata={"description": "Internal."})
    public_note = fields.String(allow_none=True, metadata={
        "description": "The public reply: shown through Open311."})
    department = fields.String(attribute="department_code", allow_none=True)
    actor_id = fields.Integer(allow_none=True)
    actor_username = fields.String(allow_none=True)
    actor_display_name = fields.String(allow_none=True)
    actor_role = fields.String(allow_none=True)
    data = fields.Dict(metadata={
        "description": "What the event tells. case.possible_duplicate: the links the case got, "
                       "{links: [{other_id, distance_m}, …]}, nearest first (older trails: one "
                       "event a link, {other_id, distance_m}). A case you may not see is not "
                       "named: its entry is empty."})
