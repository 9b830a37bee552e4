"""Committing part of a long job's work before the rest, where its owner allows it.

Services flush and never commit: the caller owns the transaction. A scheduler job that
does many independent pieces of work (scheduled loads, sending notifications) should not
hold one transaction for all of them: the ledger's chain-head lock would be held for the
whole run, one failure would roll back the rest, and a message sent before a rollback
would be sent again. The scheduler's ``JobRunner`` lets such a job commit as it goes: it
puts a checkpoint in the session, which checks that this process still holds the
scheduler lease and commits. Anywhere else (a test, a command), ``commit_point`` only
flushes, and the caller's single transaction stands.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

CHECKPOINT = "dpledger.checkpoint"


def allow_commit_points(session: Session, commit: Callable[[], None]) -> None:
    """Let work in ``session`` commit at its commit points, through ``commit``."""
    session.info[CHECKPOINT] = commit


def commit_point(session: Session) -> bool:
    """Commit the work so far if the session's owner allows it, else flush. True when it
    committed."""
    commit: Callable[[], None] | None = session.info.get(CHECKPOINT)
    if commit is None:
        session.flush()
        return False
    commit()
    return True
