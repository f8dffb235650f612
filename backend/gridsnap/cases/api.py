"""Cases over HTTP: read with allowed actions and ETag, act (If-Match), the audit trail, my tasks."""

from __future__ import annotations

import uuid

from flask import request
from flask.views import MethodView

from ..edge import Blueprint
from ..errors import AppError
from ..extensions import db_session, settings
from ..grid.schemas import parse_bbox
from ..users.auth import SECURITY, auth_required, current_principal
from . import service, views
from .schemas import (
    ActionInSchema,
    CaseQuerySchema,
    CaseSchema,
    EventSchema,
    LinkedCaseSchema,
    NoticeListItemSchema,
    NoticeQuerySchema,
)

blp = Blueprint("cases", __name__, url_prefix="/cases",
                description="Cases: the closed loop (立案, 派遣, 处置, 核查结案)")
me_blp = Blueprint("my_tasks", __name__, url_prefix="/me", description="What waits for me")
notices_blp = Blueprint("notices", __name__, url_prefix="/notices",
                        description="Supervision notices (督办) and their replies")


def _if_match() -> frozenset[int] | None:
    """The versions the request's If-Match accepts, as werkzeug parses the header (RFC 9110:
    one or more entity tags, weak ones too), or None: no If-Match, or `*` (the case as it is).
    The comparison is the service's, under the case's lock, so nothing changes between the
    check and the write. A tag that is not a version is 412 case.precondition_failed."""
    if not request.headers.get("If-Match"):
        return None
    tags = request.if_match
    if tags.star_tag:
        return None
    try:
        versions = frozenset(int(tag) for tag in tags.as_set(include_weak=True))
    except (TypeError, ValueError):  # "" or a tag of another kind
        versions = frozenset()
    if not versions:  # nothing werkzeug could read as entity tags, or not a version
        raise AppError("case.precondition_failed",
                       "If-Match must be the case's ETag, e.g. \"3\".")
    return versions


def _filters(query: dict) -> dict:
    out = {"statuses": query.get("status"), "category": query.get("category"),
           "area_prefix": query.get("area"), "updated_since": query.get("updated_since"),
           "overdue": query.get("overdue"), "department": query.get("department"),
           "stage": query.get("stage"), "order": query.get("order"),
           "source": query.get("source")}
    if "bbox" in query:
        try:
            out["bbox"] = parse_bbox(query["bbox"])
        except Exception:
            raise AppError("request.invalid", "bbox is minlon,minlat,maxlon,maxlat.",
                           {"bbox": ["minlon,minlat,maxlon,maxlat"]}) from None
    return out


@blp.route("")
class CaseList(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(CaseQuerySchema, location="query")
    @blp.response(200, CaseSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, query, pagination_parameters):
        """The cases you may see, filtered; newest first or by due time (order=due)."""
        p = pagination_parameters
        items, p.item_count = views.list_cases(
            db_session(), current_principal(), page=p.page, page_size=p.page_size,
            **_filters(query))
        return items


@blp.route("/<uuid:case_id>")
class CaseResource(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.response(200, CaseSchema)
    def get(self, case_id: uuid.UUID):
        """One case with photos, possible duplicates and the actions you may take (ETag)."""
        case = views.get_case(db_session(), current_principal(), case_id)
        return case, 200, {"ETag": f'"{case["version"]}"'}


@blp.route("/<uuid:case_id>/possible-duplicates")
class CasePossibleDuplicates(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.response(200, LinkedCaseSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, case_id: uuid.UUID, pagination_parameters):
        """All the possible duplicates of a case you may see, nearest first, a page at a time
        (the case itself names the nearest few and how many there are)."""
        p = pagination_parameters
        items, p.item_count = views.possible_duplicates(
            db_session(), current_principal(), case_id, page=p.page, page_size=p.page_size)
        return items


@blp.route("/<uuid:case_id>/actions")
class CaseActions(MethodView):
    @blp.doc(security=SECURITY, parameters=[{
        "in": "header", "name": "If-Match", "required": False, "schema": {"type": "string"},
        "description": "The ETag you read; a stale one is 412 case.precondition_failed."}])
    @auth_required
    @blp.arguments(ActionInSchema)
    @blp.response(200, CaseSchema)
    @blp.alt_response(409, description="case.invalid_transition")
    @blp.alt_response(412, description="case.precondition_failed")
    def post(self, body, case_id: uuid.UUID):
        """Take an action: accept, reject, merge, unmerge, dispatch, sign, return,
        approve/refuse_return (退单审核), request/approve/refuse_extension,
        request/approve/refuse_suspension and resume (挂账), resolve, verify_pass, verify_fail,
        close, rework; whistle (吹哨), report_in (报到), joint_feedback, issue_notice (督办),
        reply_notice."""
        case = service.act(db_session(), current_principal(), case_id, body,
                           settings=settings(), if_match=_if_match())
        return case, 200, {"ETag": f'"{case["version"]}"'}


@blp.route("/<uuid:case_id>/events")
class CaseEvents(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.response(200, EventSchema(many=True))
    def get(self, case_id: uuid.UUID):
        """The audit trail: who, when, from, to, note, photos, department."""
        return service.list_events(db_session(), current_principal(), case_id)


@me_blp.route("/tasks")
class MyTasks(MethodView):
    @me_blp.doc(security=SECURITY)
    @auth_required
    @me_blp.arguments(CaseQuerySchema(only=("updated_since",)), location="query")
    @me_blp.response(200, CaseSchema(many=True))
    def get(self, query):
        """Cases waiting for me: verifications (核查) for a worker, dispatched work for a
        handler's department, cases to accept or re-dispatch for a supervisor."""
        return views.list_my_tasks(db_session(), current_principal(),
                                   updated_since=query.get("updated_since"))


@notices_blp.route("")
class NoticeList(MethodView):
    @notices_blp.doc(security=SECURITY)
    @auth_required
    @notices_blp.arguments(NoticeQuerySchema, location="query")
    @notices_blp.response(200, NoticeListItemSchema(many=True))
    @notices_blp.paginate(page_size=50, max_page_size=500)
    def get(self, query, pagination_parameters):
        """Notices (督办) on the cases you may see — a handler's, those to their department —
        newest first; state: open, replied or overdue."""
        p = pagination_parameters
        items, p.item_count = service.list_notices(
            db_session(), current_principal(), state=query.get("state"), page=p.page,
            page_size=p.page_size)
        return items
