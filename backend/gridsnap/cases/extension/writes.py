"""The side writes of an extension request (延期), each applied by extension.queries."""

from __future__ import annotations

from dataclasses import dataclass

from ...deadlines.rules import TimeLimit
from ..outcome import Write, WriteContext
from . import queries


@dataclass
class ExtensionRequested(Write):
    """A new extension request (延期); the note is its reason."""

    limit: TimeLimit

    def apply(self, w: WriteContext) -> None:
        queries.insert_extension(w.session, w.case_id, w.principal.id, self.limit.amount,
                                 self.limit.unit, w.note)


@dataclass
class ExtensionDecided(Write):
    """An extension request approved or refused."""

    extension_id: int
    status: str  # "approved" | "refused"

    def apply(self, w: WriteContext) -> None:
        queries.decide_extension(w.session, self.extension_id, self.status, w.principal.id,
                                 w.note)
