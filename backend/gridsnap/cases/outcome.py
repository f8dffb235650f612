"""The vocabulary of a case change: the context an action function is given (`ActionContext`)
and what it returns (`Outcome`, with the typed side writes that go with it: `Write`). The
core's actions and each sub-process's (`callback/`, ...) import it; the one writer
(`change.write`) applies it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy.orm import Session

from ..db import memoized
from ..deadlines.rules import (
    TimeLimit,
    WorkCalendar,
    due_at,
    guessed_years,
    hotline_limit,
)
from ..deadlines.service import calendar_of
from ..events import queries as event_queries
from ..notifications import rules as kinds
from ..settings import Settings
from ..users import queries as users
from ..users.rules import Principal
from . import rules


@dataclass
class ActionContext:
    """One action on one case: who, the locked case as it stands (after earlier steps of the
    same change), what was sent, when, and the deployment's settings."""

    session: Session
    principal: Principal
    case: dict
    body: dict
    note: str | None
    now: datetime
    settings: Settings

    @property
    def is_system(self) -> bool:
        return self.principal.role == rules.SYSTEM_ROLE

    @cached_property
    def calendar(self) -> WorkCalendar:
        return calendar_of(self.settings)

    def limit(self, stage: str) -> TimeLimit:
        """The time limit of `stage`: the category's; a hotline case is handled within the
        hotline's limit for its urgency (接诉即办)."""
        if stage == "handle" and self.case.get("urgency"):
            return hotline_limit(self.settings.hotline_time_limits,
                                               self.case["urgency"])
        return TimeLimit.from_dict(self.case["time_limits"][stage])

    def due(self, stage: str, start: datetime) -> datetime:
        """When `stage` falls due if it starts at `start`."""
        return due_at(start, self.limit(stage), self.calendar)

    def deadline(self, stage: str, start: datetime) -> tuple[datetime, list[int] | None]:
        """When `stage` falls due if it starts at `start`, and the years without a holiday
        notice that deadline was counted over (None: none, it is not an estimate)."""
        limit = self.limit(stage)
        due = due_at(start, limit, self.calendar)
        return due, list(guessed_years(start, due, limit, self.calendar)) or None

    def enter_stage(self, stage: str | None, start: datetime | None = None) -> dict:
        """The changes of a new stage starting: its deadline, and no longer overdue (an
        escalation stays on record). None: the case has ended, no deadline runs."""
        start = start or self.now
        due, guessed = self.deadline(stage, start) if stage else (None, None)
        return {"stage": stage, "stage_started_at": start if stage else None, "overdue": False,
                "overdue_at": None, "due_at": due, "due_at_guessed_years": guessed}

    def recomputed_deadline(self) -> tuple[datetime, list[int] | None]:
        """The running stage's deadline counted again on the calendar in use: from the stage's
        start by its limit, then each extension (延期) approved since, in order, as approving it
        did — from the deadline then in force, or from the approval when that had passed."""
        c = self.case
        due, guessed = self.deadline(c["stage"], c["stage_started_at"])
        years = set(guessed or ())
        for approved_at, limit in rules.extensions_of_stage(
                event_queries.deadline_events(self.session, c["id"])):
            base = max(due, approved_at)
            if base != due:  # the extension ran from its approval: earlier guesses don't count
                years = set()
            due = due_at(base, limit, self.calendar)
            years.update(guessed_years(base, due, limit, self.calendar))
        return due, sorted(years) or None

    def supervisors(self, level: str = "owner") -> list[int]:
        """The supervisors closest to the case ("owner") or the level above ("next_up")."""
        area = self.case["area_code"]
        rows = memoized(self.session, ("users.supervisors_by_depth", area),
                        lambda: users.supervisors_by_depth(self.session, [area]))
        return rules.pick_level(rows, level, lambda: memoized(
            self.session, ("users.admins",), lambda: users.admins(self.session)))

    def deciders_of_extensions(self) -> list[int]:
        """Who decides an extension (延期) of this case: for a hotline case the hotline centre
        (its call-takers, rules.EXTENSION_DECIDERS), else the supervisors closest to it."""
        if self.case["source"] == "hotline":
            return users.call_takers(self.session)
        return self.supervisors()

    def handlers(self, department_code: str) -> list[int]:
        """The handlers of the unit of `department_code` covering this case's area."""
        unit = (department_code, self.case["area_code"])
        return users.handlers_covering(self.session, [unit])[unit]

    def closing(self) -> tuple[dict, list[tuple[str, list[int]]]]:
        """The changes and notices of a case closing: a hotline case waits for its callback
        (回访) by the call-takers; the reporter hears it closed."""
        more, notices = self.callback_due()
        return more, [(kinds.CASE_CLOSED, [self.case["reporter_id"]]), *notices]

    def callback_due(self) -> tuple[dict, list[tuple[str, list[int]]]]:
        """A hotline request closed or rejected (the centre's answer) waits for its callback
        (回访) by the call-takers; any other case has none."""
        if self.case["source"] != "hotline":
            return {}, []
        return ({"callback_status": "pending", "callback_attempts": 0},
                [(kinds.CASE_CALLBACK_DUE, users.call_takers(self.session))])


@dataclass(frozen=True)
class WriteContext:
    """What a side write is applied with: the change's session, case, actor, note and time."""

    session: Session
    case_id: uuid.UUID
    principal: Principal
    note: str | None
    now: datetime

    @property
    def actor_id(self) -> int | None:
        """The person who acted; None: the system."""
        return None if self.principal.role == rules.SYSTEM_ROLE else self.principal.id


class Write:
    """A side write that goes with an action: rows of a table beside the case's own (a request,
    an extension, a participant, a notice), each applied by its owner's query function. The
    writer (change.write) applies them in the order the steps made them, before the case's row,
    whose read model shows them."""

    def apply(self, w: WriteContext) -> None:
        raise NotImplementedError

    def applied_to(self, case: dict) -> dict:
        """The case's columns after this write, for the next step of the same change (the read
        model's request_*, ... columns); most writes are seen only after the write."""
        return {}


@dataclass
class Outcome:
    """What an action changes: case columns, the event's data and department, who is told."""

    changes: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    department: str | None = None  # the event's department; None: the case's
    notices: list[tuple[str, list[int]]] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)  # side writes, in order
