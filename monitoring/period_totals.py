"""The period totals every monitor reads, brought up to date before each run.

Adding each new transfer to its plan period's totals exactly once is what makes the
monitors incremental: a run reads the few totals that moved, not the whole history. The
``period_totals`` watermark is locked while it is advanced, so two monitors running at
once cannot add the same transfers twice. The same pass finds unplanned spend.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from monitoring.repositories import batch, watermarks
from monitoring.repositories.spend import Window

NAME = "period_totals"
_REBUILT = "monitoring.rebuilt_since"


def catch_up(session: Session, hi: int) -> int:
    """Add every transfer up to ``hi`` not yet counted. Returns the watermark reached.
    Every run calls this first, so it also sets the transaction up for the monitors'
    statements (``batch.without_jit``)."""
    batch.without_jit(session)
    mark = watermarks.lock(session, NAME)
    if mark.last_transfer_id < hi:
        _count(session, Window(mark.last_transfer_id, hi), hi, None)
        mark.last_transfer_id = hi
        session.flush()
    return mark.last_transfer_id


def rebuild_from(session: Session, since: date, hi: int) -> None:
    """Recount every plan period that ends after ``since`` from the transfers (once per
    transaction: ``monitors run all --since`` runs every monitor after one recount)."""
    upto = catch_up(session, hi)
    if session.info.get(_REBUILT) == (since, upto):
        return
    session.info[_REBUILT] = (since, upto)
    batch.forget_from(session, since)
    _count(session, Window(0, upto), upto, since)
    session.flush()


@event.listens_for(Session, "after_transaction_end")
def _forget_rebuild(session: Session, transaction: SessionTransaction) -> None:
    # A recount rolled back with its savepoint or transaction must be done again.
    if transaction.nested or transaction.parent is None:
        session.info.pop(_REBUILT, None)


def _count(session: Session, window: Window, hi: int, period_from: date | None) -> None:
    batch.fill(session, window, period_from)
    rows = batch.batch_rows(session)
    batch.add_plan_totals(session, hi)
    batch.add_line_totals(session, hi)
    batch.add_unplanned(session, hi)
    batch.clear(session)
    batch.analyse_if_large(session, rows)
