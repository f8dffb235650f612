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
        """The city scope ''. An admin's reach is their scopes too: an admin of one street
        sees, unmasks and exports that street only."""
        return "" in self.scopes

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
                       department_code: str | None,
                       responsible_department_code: str | None = None,
                       joint_departments=None) -> bool:
        """Invariant 4. A handler works for a responsible unit (责任单位): their department in
        their area (their scopes; '' only when an admin gave them the whole city). They see the
        cases of that unit: in their area and dispatched to their department now, signed for by
        it (首接负责) or summoned to it as a joint case (吹哨报到). Everyone sees what they
        reported."""
        if reporter_id == self.id:
            return True
        if self.role == "handler":
            return self.department_code is not None and self.covers_area(area_code) and (
                self.department_code in (department_code, responsible_department_code)
                or self.department_code in (joint_departments or ()))
        return self.covers_area(area_code)


# Login throttling: (what is counted, failed logins allowed, in how many seconds). Only
# failures count. The strict limit is per account and address; the account-wide one stops a
# guesser spread over many addresses, and its short window means an attacker keeps a real user
# from logging in anew for at most LOGIN_LOCK_MAX_SECONDS at a time — tokens already issued (30
# days) keep working.
LOGIN_LIMITS: tuple[tuple[str, int, int], ...] = (
    ("account_ip", 5, 60),
    ("account", 20, 300),
    ("ip", 50, 300),
)
LOGIN_LOCK_MAX_SECONDS = max(window for _, _, window in LOGIN_LIMITS)


def scopes_within(inner, outer) -> bool:
    """Every scope of `inner` lies inside one of `outer` ('' only inside '')."""
    return all(any(s.startswith(p) for p in outer) for s in inner)


def valid_scope(prefix: str) -> bool:
    """A scope is "" (the city) or a run of digits no longer than a cell code."""
    return prefix == "" or (prefix.isdigit() and len(prefix) <= 15)
