"""Card payments are dated when they happened (the provider's time), not when we processed
them: a statement read the next morning reconciles against the day it describes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from adapters.canonical import EventKind
from adapters.simulated import SimulatedProvider
from adapters.statement_file import HEADER, import_statement
from ledger.clock import FixedClock
from ledger.models import ReconciliationBreak, Transfer, TransferCode
from ledger.service import Ledger
from tests import factories


def _factory(session: Session) -> sessionmaker[Session]:
    """Sessions sharing the test's connection (rolled back at the end)."""
    return sessionmaker(
        bind=session.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False
    )


def _effective(session: Session, key: str) -> list[datetime]:
    return list(
        session.scalars(
            select(Transfer.effective_at).where(
                Transfer.idempotency_key == key, Transfer.code != TransferCode.HOLD_VOID
            )
        )
    )


def test_a_late_clearing_is_dated_when_it_settled(session: Session, clock: FixedClock) -> None:
    _, _, card = factories.budget_with_card(session, clock, loaded=50_000)
    sim = SimulatedProvider(session, clock)
    pid, answer = sim.purchase(card.provider_card_token, 1_000)
    assert answer["approved"]
    settled = clock.now() + timedelta(hours=3)
    clock.advance(days=1)  # the provider tells us a day later
    for event in (
        sim.event(EventKind.CLEARING, card.provider_card_token, 1_000, payment_id=pid),
        sim.event(EventKind.CLEARING, card.provider_card_token, 500),  # a force post
        sim.event(EventKind.REFUND, card.provider_card_token, 200),
    ):
        sent = replace(event, event_id=f"late-{event.kind}-{event.amount}", occurred_at=settled)
        assert sim.send(sent).status == 200
        assert _effective(session, sent.event_id) == [settled]


def test_yesterdays_statement_read_next_morning_records_no_break(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    _, _, card = factories.budget_with_card(session, clock, loaded=100_000)
    t = card.provider_card_token
    pid, answer = SimulatedProvider(session, clock).purchase(t, 1_000, merchant="Cafe")
    assert answer["approved"]
    day = "2026-04-06"
    path = tmp_path / "statement-2026-04-06.csv"
    lines = [
        f"CARD_PAYMENT,st-1,{t},{day}T10:30:00Z,10.00,GBP,Cafe,5411,,,{pid},,",
        f"CARD_PAYMENT,st-2,{t},{day}T12:00:00Z,12.34,GBP,Corner Shop,5411,,,,,",
        f"CASH_WITHDRAWAL,st-3,{t},{day}T13:00:00Z,20.00,GBP,ATM,6011,,,,,",
        f"REFUND,st-4,{t},{day}T14:00:00Z,2.34,GBP,Corner Shop,5411,,,,,",
        f"FEE,st-5,{t},{day}T15:00:00Z,1.50,GBP,,,,Monthly fee,,,",
        f"CLOSING_BALANCE,,{t},{day},958.50,GBP,,,,,,,",
    ]
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    clock.current = datetime(2026, 4, 7, 5, 0, tzinfo=UTC)  # 06:00 in London
    report = import_statement(_factory(session), path, clock, provider="simulated")
    assert (report.applied, report.quarantined, report.balances_checked) == (5, 0, 1)
    assert report.breaks == 0
    assert session.scalars(select(ReconciliationBreak)).all() == []


def test_an_unload_the_provider_reports_can_carry_its_own_date(
    session: Session, clock: FixedClock
) -> None:
    """The ledger's clawback takes the provider's time (for unloads it reports)."""
    _, budget, _ = factories.budget_with_card(session, clock, loaded=10_000)
    unloaded = clock.now() - timedelta(hours=20)
    Ledger(session, clock).clawback(
        budget.id, 2_500, source="simulated", key="unload-yesterday", effective_at=unloaded
    )
    assert _effective(session, "unload-yesterday") == [unloaded]
