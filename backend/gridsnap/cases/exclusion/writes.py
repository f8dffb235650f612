"""The side writes of exclusions and appeals, each applied by exclusion.queries."""

from __future__ import annotations

from dataclasses import dataclass

from ..outcome import Write, WriteContext
from . import queries


@dataclass
class ExclusionRequested(Write):
    """A unit asks: exclusion (剔除) or appeal (申诉); the note is its reasons."""

    kind: str
    reason_kind: str
    department_code: str | None

    def apply(self, w: WriteContext) -> None:
        queries.insert_exclusion(w.session, w.case_id, self.kind, self.reason_kind,
                                 w.note or "", w.principal.id, self.department_code)


@dataclass
class ExclusionDecided(Write):
    """The centre approved or refused it; the note is its reasons."""

    exclusion_id: int
    status: str  # "approved" | "refused"

    def apply(self, w: WriteContext) -> None:
        queries.decide_exclusion(w.session, self.exclusion_id, self.status, w.principal.id,
                                 w.note)
