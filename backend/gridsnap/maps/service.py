"""Use cases of the map: a vector tile of the cases a principal may see."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..errors import AppError
from ..users.rules import Principal
from . import queries, rules


def tile(session: Session, principal: Principal, z: int, x: int, y: int, query: dict) -> bytes:
    """The Mapbox Vector Tile z/x/y of the cases the principal may see (points up close,
    counts per cell or area further out), filtered by `query` (open cases unless `status`
    says otherwise). Raises AppError request.not_found for a tile that does not exist."""
    if not rules.valid_tile(z, x, y):
        raise AppError("request.not_found", "No such tile.")
    filters = {"statuses": query.get("status"),
               **{k: v for k, v in query.items() if k != "status"}}
    return queries.tile(session, principal, z, x, y, rules.layers_for(z),
                        rules.area_level_for(z), filters)
