"""Who may see and edit routing rules (精准派单): supervisors and admins, within their scope."""

from __future__ import annotations

from ..users.permissions import EDIT_ROUTING_RULES
from ..users.rules import Principal

EDITORS = EDIT_ROUTING_RULES.roles


def may_edit(p: Principal, area_prefix: str) -> bool:
    """A rule is changed only by an editor whose scope covers its whole area ("" is the city)."""
    return p.role in EDITORS and p.covers_area(area_prefix or None)


def may_view(p: Principal, area_prefix: str) -> bool:
    """An editor sees the rules within their scope and the broader ones that route their area
    (a city-wide or district rule), not the rules of other areas."""
    if p.role not in EDITORS:
        return False
    if p.sees_everything:
        return True
    return any(area_prefix.startswith(s) or s.startswith(area_prefix) for s in p.scopes if s)
