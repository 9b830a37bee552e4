"""Keyset paging of a card's payments: pages of transfer ids, newest first, with no row
lost or repeated walking back and forth, and the same search on every page."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from ledger.card_payments import CardPayments
from ledger.clock import FixedClock
from portal.repositories.payments import PaymentSearch, payments_page
from tests import factories


def _card_with_payments(session: Session, clock: FixedClock, count: int) -> int:
    _, budget, card = factories.budget_with_card(session, clock, loaded=100000)
    ledger = CardPayments(session, clock)
    for n in range(count):
        clock.advance(hours=1)
        merchant = "Corner Shop" if n % 2 else "Taxi Firm"
        result = ledger.authorise(
            card.id, 100 + n, source="test", key=f"a{n}", merchant_name=merchant, mcc="5411"
        )
        assert result.hold_id is not None
        if n % 5:  # every fifth stays a hold
            ledger.post_hold(result.hold_id, 100 + n, source="test", key=f"p{n}")
    return budget.id


def test_walking_older_then_newer_sees_every_payment_once(
    session: Session, clock: FixedClock
) -> None:
    account = _card_with_payments(session, clock, 11)
    everything = payments_page(session, account, PaymentSearch(), size=100).rows
    assert len(everything) == 12  # 11 payments and the load
    ids = [row.transfer_id for row in everything]
    assert ids == sorted(ids, reverse=True)
    assert [row.pending for row in everything].count(True) == 3  # holds 0, 5 and 10

    pages = [payments_page(session, account, PaymentSearch(), size=5)]
    while pages[-1].older_before is not None:
        pages.append(
            payments_page(session, account, PaymentSearch(), before=pages[-1].older_before, size=5)
        )
    assert [len(p.rows) for p in pages] == [5, 5, 2]
    assert [r.transfer_id for p in pages for r in p.rows] == ids
    assert pages[0].newer_after is None
    assert all(p.newer_after is not None for p in pages[1:])

    back = payments_page(session, account, PaymentSearch(), after=pages[-1].newer_after, size=5)
    assert [r.transfer_id for r in back.rows] == [r.transfer_id for r in pages[1].rows]
    first = payments_page(session, account, PaymentSearch(), after=back.newer_after, size=5)
    assert [r.transfer_id for r in first.rows] == [r.transfer_id for r in pages[0].rows]
    assert first.newer_after is None


def test_the_search_holds_on_every_page(session: Session, clock: FixedClock) -> None:
    account = _card_with_payments(session, clock, 11)
    search = PaymentSearch(text="corner")
    first = payments_page(session, account, search, size=3)
    second = payments_page(session, account, search, before=first.older_before, size=3)
    rows = first.rows + second.rows
    assert len(rows) == 5
    assert all("Corner Shop" in row.description for row in rows)
    assert second.older_before is None


def test_search_by_dates_and_literal_wildcards(session: Session, clock: FixedClock) -> None:
    account = _card_with_payments(session, clock, 4)
    # The clock starts at 09:00 on 6 April 2026; a payment each hour from 10:00.
    window = PaymentSearch(
        start=datetime(2026, 4, 6, 10, 0, tzinfo=UTC), end=datetime(2026, 4, 6, 12, 0, tzinfo=UTC)
    )
    rows = payments_page(session, account, window).rows
    assert [row.money_out for row in rows] == [101, 100]
    assert payments_page(session, account, PaymentSearch(text="%")).rows == []
    assert payments_page(session, account, PaymentSearch(text="_")).rows == []
