"""The hotline over HTTP: calls taken (话务受理), callbacks (回访), a case's caller."""

from __future__ import annotations

import uuid

from flask.views import MethodView

from ..edge import Blueprint
from ..errors import AppError
from ..extensions import db_session, settings
from ..users.auth import SECURITY, auth_required, current_principal
from . import service
from .schemas import (
    AddressQuerySchema,
    AddressSearchSchema,
    CallbackRecordSchema,
    CallerHistoryInSchema,
    CallerHistorySchema,
    CallerQuerySchema,
    CallerSchema,
    CallInSchema,
    HotlineCaseSchema,
    PlaceHistoryInSchema,
    PlaceHistorySchema,
    ResolvedAddressSchema,
)

blp = Blueprint("hotline", __name__, url_prefix="/hotline",
                description="接诉即办: 12345 calls, callbacks (回访) and callers")


@blp.route("/calls/<uuid:call_id>")
class Call(MethodView):
    @blp.doc(security=SECURITY, responses={
        "200": {"description": "An identical replay: the case as recorded."},
        "409": {"description": "report.id_conflict: this id is taken by other content."}})
    @auth_required
    @blp.arguments(CallInSchema)
    @blp.response(201, HotlineCaseSchema)
    def put(self, body, call_id: uuid.UUID):
        """Record a call under the id the screen made: a case with source hotline (a
        consultation with its answer is closed at once: 即时答复)."""
        case, created = service.take_call(db_session(), current_principal(), call_id, body,
                                          settings=settings())
        return (case, 201) if created else (case, 200)


@blp.route("/callbacks")
class Callbacks(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.response(200, HotlineCaseSchema(many=True))
    def get(self):
        """Closed hotline cases waiting for their callback (回访), callers masked."""
        return service.list_callbacks(db_session(), current_principal())


@blp.route("/callbacks/<uuid:case_id>")
class CallbackRecord(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(CallbackRecordSchema)
    @blp.response(200, HotlineCaseSchema)
    def post(self, body, case_id: uuid.UUID):
        """Record a callback try: 响应 / 解决 / 满意, or not reached (three tries: unreachable);
        reopen on 不满意 or 未解决 (重新办理)."""
        return service.record_callback(db_session(), current_principal(), case_id, body,
                                       settings=settings())


@blp.route("/cases/<uuid:case_id>/caller")
class CaseCaller(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(CallerQuerySchema, location="query")
    @blp.response(200, CallerSchema)
    def get(self, query, case_id: uuid.UUID):
        """The case's caller, masked (138****1234); unmasked=true for call-takers and admins,
        written to the audit trail."""
        return service.show_caller(db_session(), current_principal(), case_id,
                                   unmasked=query["unmasked"], reason=query.get("reason"))


@blp.route("/address")
class Address(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(AddressQuerySchema, location="query")
    @blp.response(200, ResolvedAddressSchema)
    def get(self, query):
        """Where a typed address lies: an address point (门牌) it is, contains or uniquely
        begins; else by the grid's area names, the smallest area it names."""
        found = service.place_address(db_session(), current_principal(), query["q"])
        if found is None:
            raise AppError("hotline.location_required", "No area of the grid is named here.",
                           {"q": ["Not found among the grid's names."]})
        return found


@blp.route("/addresses")
class Addresses(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(AddressSearchSchema, location="query")
    @blp.response(200, ResolvedAddressSchema(many=True))
    def get(self, query):
        """Address points (门牌) matching a typed address, best first (at most 10), each with
        its point and cell: the call-taker picks one and sends its id as address_id."""
        return service.find_addresses(db_session(), current_principal(), query["q"])


@blp.route("/caller-history")
class CallerHistory(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(CallerHistoryInSchema)
    @blp.response(200, CallerHistorySchema)
    def post(self, body):
        """重复来电: how often this number called within GRIDSNAP_REPEAT_CALLER_DAYS, and the
        latest cases (of those you may see), found by the number's keyed hash (HMAC-SHA256
        under the server's key), never by the number. POST: the number stays out of URLs and
        logs. Call-takers and admins."""
        return service.caller_history(db_session(), current_principal(), body["phone"],
                                      settings=settings())


@blp.route("/place-history")
class PlaceHistory(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(PlaceHistoryInSchema)
    @blp.response(200, PlaceHistorySchema)
    def post(self, body):
        """重复诉求: the open requests of this class (or category) at this place — within
        GRIDSNAP_REPEAT_REQUEST_RADIUS_M of the point or address point — and those closed
        within GRIDSNAP_REPEAT_REQUEST_DAYS, of the cases you may see, nearest first: the
        request about to be taken would be linked to them as a repeat. Call-takers and
        admins."""
        return service.place_history(db_session(), current_principal(), body,
                                     settings=settings())


@blp.route("/cases/<uuid:case_id>/repeat-calls")
class CaseRepeatCalls(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.response(200, CallerHistorySchema)
    def get(self, case_id: uuid.UUID):
        """The other calls from this case's caller's number within the window, of the cases
        you may see (call-takers, and the handlers and supervisors of the case)."""
        return service.repeat_calls(db_session(), current_principal(), case_id,
                                    settings=settings())
