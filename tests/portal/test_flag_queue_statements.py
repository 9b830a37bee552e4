"""The flag queue's statements: their text never grows with how many flags match (a
thousand ids sent back as parameters cost more than the rest of the page), and a page of
a few flags is the right page whichever sort."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from ledger.clock import FixedClock
from monitoring.flags import Hit, raise_flags
from monitoring.models import Severity
from monitoring.settings import MonitoringSettings
from portal.repositories import flag_queue
from portal.repositories.flag_queue import QueueFilter, QueueSort


def raise_reviews(session: Session, clock: FixedClock, count: int, first: int = 0) -> None:
    """``count`` open review flags about no one, of every severity in turn, a minute apart."""
    severities = list(Severity)
    for n in range(first, first + count):
        hit = Hit(
            rule="review_due.plan_review",
            subject_type="plan",
            subject_id=50_000 + n,
            evidence_key="due",
            severity=severities[n % len(severities)],
            title=f"Plan review due {n}",
            explanation="The plan's review is due.",
        )
        raised = FixedClock(clock.now() - timedelta(minutes=n))
        raise_flags(session, raised, MonitoringSettings(), "review_due", [hit])
    session.flush()


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []
    bind = session.get_bind()

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(bind, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(bind, "before_cursor_execute", note)


def page(session: Session, clock: FixedClock, sort: QueueSort, number: int = 1) -> Any:
    filters = QueueFilter(monitor="review_due")
    return flag_queue.queue_page(session, clock.now(), filters, sort, number=number, size=4)


def test_the_statements_are_the_same_for_few_and_more_flags(
    session: Session, clock: FixedClock
) -> None:
    raise_reviews(session, clock, 3)
    with statements(session) as few:
        assert page(session, clock, QueueSort.SLA).matching == 3
    raise_reviews(session, clock, 9, first=3)
    with statements(session) as more:
        assert page(session, clock, QueueSort.SLA).matching == 12
    assert len(few) == 2
    assert few == more


def test_a_page_of_few_flags_is_in_each_sorts_order(session: Session, clock: FixedClock) -> None:
    raise_reviews(session, clock, 10)
    every = page(session, clock, QueueSort.SLA).rows + page(session, clock, QueueSort.SLA, 2).rows
    every += page(session, clock, QueueSort.SLA, 3).rows
    assert len(every) == 10
    keys = {
        QueueSort.SLA: lambda r: (r.sla_due_at, r.flag_id),
        QueueSort.SEVERITY: lambda r: (-r.severity.rank, r.sla_due_at, r.flag_id),
        QueueSort.NEWEST: lambda r: (-r.raised_at.timestamp(), -r.flag_id),
        QueueSort.OLDEST: lambda r: (r.raised_at, r.flag_id),
    }
    for sort, key in keys.items():
        expected = [r.flag_id for r in sorted(every, key=key)]
        shown = [r.flag_id for n in (1, 2, 3) for r in page(session, clock, sort, n).rows]
        assert shown == expected, sort
        assert page(session, clock, sort, 9).number == 3


def queue(session: Session, clock: FixedClock, filters: QueueFilter) -> Any:
    return flag_queue.queue_page(session, clock.now(), filters, QueueSort.SLA, number=1, size=9)


def test_kept_statements_take_each_pages_values(
    session: Session, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The statements are kept for each set of filters: the filters' values, the time and
    the count's limit are parameters, never fixed in the kept statement."""
    raise_reviews(session, clock, 6)
    first = page(session, clock, QueueSort.SLA)
    assert first.matching == 6
    assert queue(session, clock, QueueFilter(monitor="surplus")).rows == []
    minutes_ago = [clock.now() - timedelta(minutes=n) for n in range(6)]
    for n in (2, 4):  # raised in the last n minutes: n + 1 of them
        recent = QueueFilter(monitor="review_due", raised_after=minutes_ago[n])
        rows = queue(session, clock, recent).rows
        assert sorted(r.raised_at for r in rows) == sorted(minutes_ago[: n + 1])
    monkeypatch.setattr(flag_queue, "COUNT_LIMIT", 4)
    limited = page(session, clock, QueueSort.SLA, 2)
    assert limited.matching == 5 and limited.beyond_limit and limited.number == 1
    assert [r.flag_id for r in limited.rows] == [r.flag_id for r in first.rows]
