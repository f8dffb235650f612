"""The category catalogue over HTTP."""

from __future__ import annotations

from flask.views import MethodView

from ..edge import Blueprint
from ..extensions import db_session
from ..users.auth import SECURITY, auth_required
from . import service
from .schemas import CategorySchema

blp = Blueprint("categories", __name__, url_prefix="/categories",
                description="Problem categories (部件/事件)")


@blp.route("")
class CategoryList(MethodView):
    @blp.doc(security=SECURITY)
    @auth_required
    @blp.response(200, CategorySchema(many=True))
    def get(self):
        """Every active category with its department, priority and stage time limits."""
        return service.list_categories(db_session())
