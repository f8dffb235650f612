"""The one writer of the case loop. Every change of a case — a person's action, the routing
job, the auto-accept and auto-dispatch of a category, the 挂账 return, a deadline counted again
— runs its steps here (`run`): the rules decide (state × action × role × scope), the action's
function says what changes (an `Outcome`, outcome.py), and `write` applies it — the side writes
(`Write`: requests, extensions, participants, notices, each by its owner's query function),
then in one statement the row (its version bumps), one audit event per step, the
notifications, and the next deadline check in the outbox — in the caller's transaction.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from .. import clock, transaction
from ..deadlines import service as deadline_service
from ..deadlines.rules import uncovered_between
from ..errors import AppError
from ..events.queries import Event
from ..events.queries import rows_json as event_rows
from ..notifications.queries import rows_json as notice_rows
from ..notifications.rules import Notice
from ..outbox import rules as topics
from ..outbox.queries import rows_json as message_rows
from ..photos import queries as photo_queries
from ..settings import Settings
from ..users.rules import Principal
from . import queries, rules
from .actions import APPLY
from .outcome import ActionContext, Outcome, Write, WriteContext
from .review.writes import RequestWithdrawn

# at most this many steps in one change (route → accept → dispatch)
MAX_STEPS = 3

# the columns that make a case's deadline count among the running estimates or not (the
# calendar's coverage: health.service, deadlines.service.estimates_changed)
_RUNNING_DEADLINE = frozenset({"status", "stage", "due_at", "due_at_guessed_years"})


@dataclass
class Change:
    """A change of one case, as its steps left it, ready to write: the case as it ends, the
    columns that change, one event per step, the notices of the last step and the side writes
    of every step, in order."""

    principal: Principal
    case: dict
    note: str | None
    now: datetime
    last_action: str
    changes: dict = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    notices: list[tuple[str, list[int]]] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    # the deadline running when the change began was an estimate
    was_estimate: bool = False


def run(session: Session, principal: Principal, row, steps: list[str], body: dict, *,
        settings: Settings, client_action_id=None,
        next_step: Callable[[dict], str | None] | None = None, view: bool = True) -> dict:
    """Run the steps (action names; `next_step` may add more, up to MAX_STEPS) on the locked
    case row and write the outcome; returns the case's new read-model row (only its id when
    not `view`: a caller that answers nobody spares the statement reading it). Does not commit.

    Raises AppError (via rules.TransitionError and the actions) when a step is not allowed.
    """
    return write(session, decide(session, principal, row, steps, body, settings=settings,
                                 client_action_id=client_action_id, next_step=next_step),
                 view=view)


def run_many(session: Session, principal: Principal, rows, steps: list[str], *,
             settings: Settings, next_step: Callable[[dict], str | None] | None = None) -> int:
    """`run` on each of many locked case rows (the system's routing of a batch of new cases),
    the same steps for each with no body: each case's change decided as `run` decides it, then
    all of them written together (write_many). Returns the count. Does not commit.

    Raises AppError as `run` does (nothing is written then: the caller's transaction fails)."""
    return write_many(session, [decide(session, principal, row, steps, {}, settings=settings,
                                       next_step=next_step) for row in rows])


def decide(session: Session, principal: Principal, row, steps: list[str], body: dict, *,
           settings: Settings, client_action_id=None,
           next_step: Callable[[dict], str | None] | None = None) -> Change:
    """The change the steps make of the locked case row, ready to write (nothing written)."""
    note = (body.get("note") or "").strip() or None
    change = Change(principal=principal, case=dict(row), note=note, now=clock.now(),
                    last_action=steps[0])
    case = change.case
    change.was_estimate = bool(case.get("due_at_guessed_years"))
    photo_ids = [uuid.UUID(str(p)) for p in body.get("photo_ids") or []]
    pending = list(steps)
    while pending and len(change.events) < MAX_STEPS:
        name = pending.pop(0)
        try:
            action = rules.check_action(name, principal, rules.facts_of(case, principal))
        except rules.TransitionError as exc:
            raise AppError(exc.code, exc.message) from None
        if action.needs_note and not note:
            raise AppError("case.note_required", f"Say why ({action.name} needs a note).",
                           {"note": ["Required for this action."]})
        if action.needs_photo:
            _check_photos(session, case["id"], principal, photo_ids, action)
        ctx = ActionContext(session=session, principal=principal, case=case, body=body,
                            note=note, now=change.now, settings=settings)
        out: Outcome = APPLY[action.name](ctx)
        change.events.append(_event(ctx, action, out, change, photo_ids, client_action_id))
        for w in out.writes:
            change.writes.append(w)
            case.update(w.applied_to(case))
        case.update(out.changes)
        if not rules.request_alive(case):
            overtaken = RequestWithdrawn(case["request_id"])
            change.writes.append(overtaken)
            case.update(overtaken.applied_to(case))
        change.changes.update(out.changes)
        # the people hear once, of where the change ended (a case routed, accepted and
        # dispatched on its own is news for the department only)
        change.notices, change.last_action = out.notices, action.name
        if next_step is not None and not pending:
            following = next_step(case)
            if following:
                pending.append(following)
    return change


def _event(ctx: ActionContext, action, out: Outcome, change: Change, photo_ids,
           client_action_id) -> Event:
    """The audit event of one step (the note, the photos and the client's id on the first)."""
    case, first = ctx.case, not change.events
    data = dict(out.data)
    if "due_at" in out.changes:
        # the trail records every deadline an action starts or moves, so the evaluation
        # (综合评价) can tell from the trail alone whether a deadline had come by a given time
        due = out.changes["due_at"]
        guessed = _guessed(ctx, out.changes, due)
        data.update(stage=out.changes.get("stage", case["stage"]),
                    due_at=due.isoformat() if due is not None else None)
        if guessed:  # counted over a year without a holiday notice: an estimate
            data["guessed_years"] = guessed
    if photo_ids and first:
        data["photo_ids"] = [str(p) for p in photo_ids]
    return Event(
        report_id=case["id"], action=action.event, at=ctx.now,
        actor_id=None if ctx.is_system else ctx.principal.id,
        from_status=case["status"], to_status=out.changes.get("status", case["status"]),
        note=ctx.note if first else None,
        # the public reply (公开答复): the only text of the trail Open311 shows
        public_note=((ctx.body.get("public_note") or "").strip() or None) if first else None,
        department_code=(out.department if out.department is not None
                         else case["department_code"]),
        client_action_id=client_action_id if first else None, data=data)


def _check_photos(session: Session, case_id, principal: Principal, photo_ids, action) -> None:
    purpose = "resolution" if action.name == "resolve" else "verification"
    if not photo_ids:
        raise AppError("case.photo_required",
                       f"{action.name} needs at least one photo (uploaded with "
                       f"?purpose={purpose}).", {"photo_ids": ["At least one photo."]})
    found = {p["id"]: p for p in photo_queries.of_case(session, case_id, photo_ids)}
    bad = [str(p) for p in photo_ids
           if p not in found or found[p]["purpose"] != purpose
           or found[p]["uploader_id"] != principal.id]
    if bad:
        raise AppError("case.photo_required",
                       f"These are not your {purpose} photos of this case (upload them first): "
                       f"{', '.join(bad)}.", {"photo_ids": ["Unknown or not yours."]})


def _guessed(ctx: ActionContext, changes: dict, due: datetime | None) -> list[int] | None:
    """The years without a holiday notice the deadline an action set was counted over, as the
    action said (ActionContext.deadline); for an action that did not say, every such year from
    its stage's start to the deadline (an estimate may be flagged that is none, never the
    reverse). Stored with the deadline (reports.due_at_guessed_years)."""
    if "due_at_guessed_years" not in changes:
        start = changes.get("stage_started_at", ctx.case["stage_started_at"]) or ctx.now
        changes["due_at_guessed_years"] = (
            list(uncovered_between(start, due, ctx.calendar)) or None) if due else None
    return changes["due_at_guessed_years"]


def _prepare(session: Session, change: Change) -> tuple[list[Notice], list]:
    """Before a change's row is written: its side writes applied in order, the calendar's
    coverage told after commit if a running estimate moves; its notices and its outbox
    messages (the check of its new deadline) to write with the row."""
    case, principal = change.case, change.principal
    at = WriteContext(session=session, case_id=case["id"], principal=principal,
                      note=change.note, now=change.now)
    for w in change.writes:
        w.apply(at)
    if (change.was_estimate or case.get("due_at_guessed_years")) \
            and not _RUNNING_DEADLINE.isdisjoint(change.changes):
        transaction.on_commit(session, deadline_service.estimates_changed)
    data = {"number": case["number"], "action": change.last_action,
            "by": change.events[-1].actor_id, "category": case["category_code"]}
    messages = []
    due = change.changes.get("due_at")
    if due is not None:
        messages.append((topics.CASE_DEADLINE, {
            "report_id": str(case["id"]), "stage": case["stage"], "due_at": due.isoformat()},
            due))
    notices = [Notice(kind, tuple(u for u in who if u is not None and u != principal.id),
                      case["id"], data) for kind, who in change.notices]
    return notices, messages


def write(session: Session, change: Change, *, view: bool = True) -> dict:
    """Apply a change: its side writes in order, then the case's row with its events, notices
    and deadline check in one statement (queries.apply_change). Returns the case's new
    read-model row (its id only when not `view`). Does not commit."""
    return _apply(session, change, *_prepare(session, change), view=view)


def _apply(session: Session, change: Change, notices: list[Notice], messages: list, *,
           view: bool) -> dict:
    """One case's change written: its row, events, notices and deadline check in one
    statement (queries.apply_change)."""
    return queries.apply_change(
        session, change.case["id"], change.changes, events=event_rows(change.events),
        notices=notice_rows(notices), messages=message_rows(messages), view=view)


def write_many(session: Session, changes: list[Change]) -> int:
    """Apply many changes (of different cases) as `write` applies each — side writes first,
    in order — with the rows, events, notices and deadline checks of the changes that set
    the same columns in one statement (queries.apply_changes), not one a case: a batch of
    new cases routed alike is one write. Does not commit; returns the count."""
    groups: dict[tuple[str, ...], list[tuple[Change, list[Notice], list]]] = {}
    for change in changes:
        notices, messages = _prepare(session, change)
        groups.setdefault(tuple(sorted(change.changes)), []).append(
            (change, notices, messages))
    for columns, group in groups.items():
        if len(group) == 1:
            _apply(session, *group[0], view=False)
            continue
        queries.apply_changes(
            session, json.dumps([{"id": str(c.case["id"]), **c.changes} for c, _, _ in group],
                                default=str),
            columns, events=event_rows([e for c, _, _ in group for e in c.events]),
            notices=notice_rows([n for _, ns, _ in group for n in ns]),
            messages=message_rows([m for _, _, ms in group for m in ms]), now=clock.now())
    return len(changes)


def write_set(session: Session, rows: list[dict], events: list[Event], notices: list[Notice],
              *, now: datetime) -> int:
    """Apply a change of many cases at once (a sweep by the system, set-based): each row is a
    case's id and its new columns (the same columns in every row; the version bumps), with the
    events and notices that go with them, in one statement (queries.apply_changes). Does not
    commit; returns the count of cases changed."""
    if not rows:
        return 0
    columns = tuple(k for k in rows[0] if k != "id")
    if not _RUNNING_DEADLINE.isdisjoint(columns):
        transaction.on_commit(session, deadline_service.estimates_changed)
    return queries.apply_changes(
        session, json.dumps(rows, default=str), columns, events=event_rows(events),
        notices=notice_rows(notices), messages=message_rows([]), now=now)
