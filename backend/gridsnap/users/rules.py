"""Who may see what: a user's scopes are area code prefixes ("" is the whole city)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of a request or job."""

    id: int
    username: str
    display_name: str
    role: str
    scopes: tuple[str, ...]
    department_code: str | None = None
    token_id: int | None = None

    @property
    def sees_everything(self) -> bool:
        return self.role == "admin" or "" in self.scopes

    def covers_area(self, area_code: str | None) -> bool:
        """True if the area (or a report with that smallest area) lies in one of the scopes.

        A report with no area at all (outside every district) belongs to the city scope.
        """
        if self.sees_everything:
            return True
        if area_code is None:
            return False
        return any(area_code.startswith(p) for p in self.scopes)

    def may_see_report(self, *, reporter_id: int, area_code: str | None,
                       department_code: str | None) -> bool:
        if reporter_id == self.id or self.covers_area(area_code):
            return True
        return (self.role == "handler" and department_code is not None
                and department_code == self.department_code)


def valid_scope(prefix: str) -> bool:
    """A scope is "" (the city) or a run of digits no longer than a cell code."""
    return prefix == "" or (prefix.isdigit() and len(prefix) <= 15)
