"""One transaction per request or job, owned by one layer.

Services never commit: they work in the transaction their caller gives them. The owner ends
it — the API's edge (`edge.unit_of_work`: once after a successful request, a rollback on an
error, before the answer leaves, so a 2xx is durable: invariant 1), the job runner
(`outbox.jobs.Followup`), a CLI command (`cli._session`), a loop of the worker (the relay).
A session given to an owner (`own`) refuses any other commit: a service that commits raises
`NestedCommit` (as Django's `atomic(durable=True)` refuses to be nested).

- `commit(session)` / `rollback(session)`: the owner ends its transaction.
- `step(session)`: a use case whose protocol needs more than one transaction in a request
  declares where one ends — the tus PATCH (no transaction stays open while the body arrives;
  a refused upload is dropped before the refusal is answered) and the outbox relay (its marks
  committed before the jobs reach Redis). `tests/test_transactions.py` lists where it may be
  used; nowhere else commits.
- `on_commit(session, fn)`: what must happen only once the change is durable (e.g. telling
  every API process that tokens were revoked); dropped on a rollback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session

_OWNER = "gridsnap.owner"
_ENDING = "gridsnap.ending"
_AFTER = "gridsnap.on_commit"


class NestedCommit(RuntimeError):
    """A commit inside a transaction that another layer owns."""


def own(session: Session, owner: str) -> Session:
    """Give `session`'s transactions to `owner` (a name, for the error): from now on only
    commit() and step() end them."""
    session.info[_OWNER] = owner
    return session


def commit(session: Session) -> None:
    """The owner commits; then what waited for it (on_commit) runs."""
    session.info[_ENDING] = True
    try:
        session.commit()
    finally:
        session.info[_ENDING] = False


def rollback(session: Session) -> None:
    """The owner rolls back; what waited for a commit is dropped."""
    session.info.pop(_AFTER, None)
    session.rollback()


# a use case's declared boundary between two transactions of one request (see above)
step = commit


@contextmanager
def unit(session: Session, owner: str) -> Iterator[Session]:
    """Own `session` for a block: commit at its end, roll back if it raises."""
    own(session, owner)
    try:
        yield session
    except BaseException:
        rollback(session)
        raise
    commit(session)


def on_commit(session: Session, fn: Callable[[], object]) -> None:
    """Run `fn` after the session's transaction commits (not if it rolls back)."""
    session.info.setdefault(_AFTER, []).append(fn)


@event.listens_for(Session, "before_commit")
def _only_the_owner(session: Session) -> None:
    owner = session.info.get(_OWNER)
    if owner is not None and not session.info.get(_ENDING):
        raise NestedCommit(f"this transaction belongs to the {owner}: a service never commits "
                           "(gridsnap.transaction)")


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for fn in session.info.pop(_AFTER, []):
        fn()


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_commit(session: Session, previous_transaction) -> None:
    session.info.pop(_AFTER, None)
