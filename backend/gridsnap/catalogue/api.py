"""The 12345 catalogue over HTTP: import the request classes, the dispatch catalogue and the
address points (admins), and search the classes (call-takers)."""

from __future__ import annotations

from flask.views import MethodView

from ..edge import Blueprint
from ..extensions import db_session
from ..users.auth import SECURITY, auth_required, current_principal
from . import service
from .schemas import (
    ClassMatchSchema,
    DispatchEntrySchema,
    ImportFileSchema,
    ImportQuerySchema,
    ImportResultSchema,
    RequestClassSchema,
    SearchQuerySchema,
    SummarySchema,
)

blp = Blueprint("catalogue", __name__, url_prefix="/catalogue",
                description="12345 诉求分类, 派单目录 and 门牌: import and search")

_IMPORT_DOC = {"security": SECURITY, "responses": {"422": {
    "description": "import.invalid: every problem of the file in `errors` (line, field, code); "
                   "nothing was imported."}}}


def _import(kind: str, files: dict, query: dict) -> dict:
    upload = files["file"]
    return service.import_file(db_session(), current_principal(), kind, upload.read(),
                               replace=query["replace"])


@blp.route("")
class Summary(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.response(200, SummarySchema)
    def get(self):
        """How many classes, dispatch entries and address points are loaded."""
        return service.summary(db_session(), current_principal())


@blp.route("/request-classes")
class RequestClasses(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.response(200, RequestClassSchema(many=True))
    def get(self):
        """The whole request catalogue (retired classes too), parents before children."""
        return service.list_classes(db_session(), current_principal())

    @blp.doc(**_IMPORT_DOC)
    @auth_required
    @blp.arguments(ImportQuerySchema, location="query")
    @blp.arguments(ImportFileSchema, location="files")
    @blp.response(200, ImportResultSchema)
    def post(self, query, files):
        """Import the request catalogue (诉求分类): code, name, name_en, category, department,
        keywords, active. Admins."""
        return _import("classes", files, query)


@blp.route("/dispatch-entries")
class DispatchEntries(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.response(200, DispatchEntrySchema(many=True))
    def get(self):
        """The whole dispatch catalogue, by class and area."""
        return service.list_entries(db_session(), current_principal())

    @blp.doc(**_IMPORT_DOC)
    @auth_required
    @blp.arguments(ImportQuerySchema, location="query")
    @blp.arguments(ImportFileSchema, location="files")
    @blp.response(200, ImportResultSchema)
    def post(self, query, files):
        """Import the dispatch catalogue (派单目录): class, area, department, note. Admins."""
        return _import("dispatch", files, query)


@blp.route("/address-points")
class AddressPoints(MethodView):
    @blp.doc(**_IMPORT_DOC)
    @auth_required
    @blp.arguments(ImportQuerySchema, location="query")
    @blp.arguments(ImportFileSchema, location="files")
    @blp.response(200, ImportResultSchema)
    def post(self, query, files):
        """Import address points (门牌): address, address_en, lon, lat (WGS 84). Admins."""
        return _import("addresses", files, query)


@blp.route("/search")
class Search(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.arguments(SearchQuerySchema, location="query")
    @blp.response(200, ClassMatchSchema(many=True))
    def get(self, query):
        """The classes matching a few typed characters (Chinese, pinyin, initials, English),
        leaves first, each with the unit it is dispatched to in the call's area. Call-takers,
        supervisors, admins."""
        return service.search(db_session(), current_principal(), query["q"],
                              area_code=query.get("area"))
