"""The side writes of the requests a supervisor decides (case_requests), each applied by
review.queries."""

from __future__ import annotations

from dataclasses import dataclass

from ..outcome import Write, WriteContext
from . import queries


def _no_request(case: dict) -> dict:
    return {k: None for k in case if k.startswith("request_")}


@dataclass
class RequestOpened(Write):
    """A new pending request (case_requests: 退单审核, 挂账); the note is its reason."""

    columns: dict  # kind, reason_kind, department_code, review_on, held_due_at

    def apply(self, w: WriteContext) -> None:
        queries.insert_request(w.session, w.case_id, w.actor_id, w.note, self.columns)


@dataclass
class RequestDecided(Write):
    """A pending request approved or refused; an approved 挂账 stays in force."""

    request_id: int
    status: str  # "approved" | "refused"

    def apply(self, w: WriteContext) -> None:
        queries.decide_request(w.session, self.request_id, self.status, w.actor_id, w.note)

    def applied_to(self, case: dict) -> dict:
        if self.status == "approved" and case.get("request_kind") == "suspension":
            return {"request_status": "approved"}
        return _no_request(case)


@dataclass
class RequestEnded(Write):
    """An approved suspension ends: the case resumed."""

    request_id: int

    def apply(self, w: WriteContext) -> None:
        queries.end_request(w.session, self.request_id, w.actor_id)

    def applied_to(self, case: dict) -> dict:
        return _no_request(case)


@dataclass
class RequestWithdrawn(Write):
    """Another change overtook the live request (rules.request_alive)."""

    request_id: int

    def apply(self, w: WriteContext) -> None:
        queries.withdraw_request(w.session, self.request_id)

    def applied_to(self, case: dict) -> dict:
        return _no_request(case)
