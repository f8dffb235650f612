"""The side writes of a joint case (吹哨报到) and of a notice (督办), each applied by
joint.queries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ..outcome import Write, WriteContext
from . import queries


@dataclass
class ParticipantsSummoned(Write):
    """The departments summoned to a joint case (吹哨报到): rows of joint_participants."""

    rows: list[dict]

    def apply(self, w: WriteContext) -> None:
        queries.insert_participants(w.session, w.case_id, self.rows)


@dataclass
class ReportedIn(Write):
    """A summoned department reported in (报到)."""

    department_code: str

    def apply(self, w: WriteContext) -> None:
        queries.record_report_in(w.session, w.case_id, self.department_code, w.now,
                                 w.principal.id)


@dataclass
class FedBack(Write):
    """A co-department fed back to the lead; the note is its feedback."""

    department_code: str

    def apply(self, w: WriteContext) -> None:
        queries.record_feedback(w.session, w.case_id, self.department_code, w.now,
                                w.principal.id, w.note)


@dataclass
class NoticeIssued(Write):
    """A notice (督办) issued: its row of case_notices."""

    row: dict

    def apply(self, w: WriteContext) -> None:
        queries.insert_notice(w.session, self.row)


@dataclass
class NoticeReplied(Write):
    """The reply (the note) to a notice."""

    notice_id: uuid.UUID

    def apply(self, w: WriteContext) -> None:
        queries.record_reply(w.session, self.notice_id, w.now, w.principal.id, w.note)
