"""The daily statement file: streamed import, quarantine, idempotency, reconciliation."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from adapters import statement_file
from adapters.apply import EventApplier
from adapters.canonical import CanonicalEvent
from adapters.models import ImportStatus, QuarantinedLine, StatementImport
from adapters.simulated import SimulatedProvider
from adapters.statement_file import HEADER, import_statement
from ledger.checks import check_balances
from ledger.clock import FixedClock
from ledger.models import ReconciliationBreak, Transfer
from ledger.service import Ledger
from tests import factories


def _factory(session: Session) -> sessionmaker[Session]:
    """A factory whose sessions all share the test's connection (rolled back at the end)."""
    return sessionmaker(
        bind=session.connection(),
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
    )


def _write(tmp_path: Path, lines: list[str], name: str = "statement.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def _card(session: Session, clock: FixedClock, loaded: int = 100_000):
    _, budget, card = factories.budget_with_card(session, clock, loaded=loaded)
    return budget, card


def test_good_lines_apply_and_balances_reconcile(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    budget, card = _card(session, clock)
    t = card.provider_card_token
    day = "2026-04-06"
    path = _write(
        tmp_path,
        [
            f"CARD_PAYMENT,tx1,{t},{day}T08:10:00Z,12.34,GBP,Corner Shop,5411,,,,,",
            f"CASH_WITHDRAWAL,tx2,{t},{day}T08:20:00Z,20.00,GBP,ATM,6011,,,,,",
            f"REFUND,tx3,{t},{day}T08:30:00Z,2.34,GBP,Corner Shop,5411,,,,,",
            f"DIRECT_DEBIT,tx4,{t},{day}T08:40:00Z,100.00,GBP,,,Care Agency Ltd,DD123,,,",
            f"STANDING_ORDER,tx5,{t},{day}T08:45:00Z,50.00,GBP,,,A Person PA,SO1,,,",
            f"FASTER_PAYMENT_OUT,tx6,{t},{day}T08:50:00Z,25.00,GBP,,,Day Centre,INV9,,,",
            f"LOAD,tx7,{t},{day}T07:00:00Z,500.00,GBP,,,Council,LOAD-APR,,,",
            f"CONTRIBUTION,tx8,{t},{day}T07:30:00Z,40.00,GBP,,,,CONTRIB,,,",
            f"FEE,tx9,{t},{day}T08:55:00Z,1.50,GBP,,,,Monthly fee,,,",
            f"CLOSING_BALANCE,,{t},{day},1333.50,GBP,,,,,,,",
        ],
    )
    clock.current = datetime(2026, 4, 6, 22, 0, tzinfo=UTC)
    report = import_statement(_factory(session), path, clock, provider="simulated")
    assert (report.applied, report.quarantined, report.balances_checked, report.breaks) == (
        9,
        0,
        1,
        0,
    )
    # 1000.00 + 500 + 40 + 2.34 - 12.34 - 20 - 100 - 50 - 25 - 1.50
    assert Ledger(session, clock).balances(budget.id).posted == 133_350
    assert check_balances(session).ok


def test_importing_the_same_file_twice_changes_nothing(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    budget, card = _card(session, clock)
    t = card.provider_card_token
    path = _write(tmp_path, [f"CARD_PAYMENT,tx1,{t},2026-04-06T08:10:00Z,12.34,GBP,Shop,5411,,,,,"])
    first = import_statement(_factory(session), path, clock, provider="simulated")
    transfers = session.execute(select(Transfer.id)).all()
    again = import_statement(_factory(session), path, clock, provider="simulated")
    assert first.applied == 1 and again.already_imported
    assert session.execute(select(Transfer.id)).all() == transfers
    # The same transaction in another file is recognised too.
    other = _write(
        tmp_path,
        [f"CARD_PAYMENT,tx1,{t},2026-04-06T08:10:00Z,12.34,GBP,Shop,5411,,,,,", ""],
        "b.csv",
    )
    third = import_statement(_factory(session), other, clock, provider="simulated")
    assert (third.applied, third.duplicate) == (0, 1)
    assert Ledger(session, clock).balances(budget.id).posted == 100_000 - 1_234


def test_bad_lines_are_quarantined_with_line_numbers(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    budget, card = _card(session, clock)
    t = card.provider_card_token
    path = _write(
        tmp_path,
        [
            f"CARD_PAYMENT,ok1,{t},2026-04-06T08:10:00Z,1.00,GBP,Shop,5411,,,,,",  # line 2
            f"CARD_PAYMENT,bad1,{t},2026-04-06T08:10:00Z,1.001,GBP,Shop,5411,,,,,",  # sub-penny
            f"CARD_PAYMENT,bad2,{t},2026-04-06T08:10:00Z,1.00,USD,Shop,5411,,,,,",  # currency
            f"DIRECT_DEBIT,bad3,{t},2026-04-06T08:10:00Z,1.00,GBP,,,,,,,",  # no payee
            "CARD_PAYMENT,bad4,unknown-card,2026-04-06T08:10:00Z,1.00,GBP,Shop,5411,,,,,",
            f"CARD_PAYMENT,bad5,{t},yesterday,1.00,GBP,Shop,5411,,,,,",
            "just,some,words",
            f'CARD_PAYMENT,bad7,{t},2026-04-06T08:10:00Z,"1.00,GBP',  # broken quoting
            f"PIZZA,bad8,{t},2026-04-06T08:10:00Z,1.00,GBP,,,,,,,",
            f"CARD_PAYMENT,bad9,{t},2026-04-06T08:10:00,1.00,GBP,Shop,5411,,,,,",  # no offset
            f"CARD_PAYMENT,ok2,{t},2026-04-06T08:10:00Z,2.00,GBP,Shop,5411,,,,,",  # line 12
        ],
    )
    report = import_statement(_factory(session), path, clock, provider="simulated")
    assert report.applied == 2
    quarantined = session.execute(
        select(QuarantinedLine.line_number, QuarantinedLine.reason)
        .where(QuarantinedLine.import_id == report.import_id)
        .order_by(QuarantinedLine.line_number)
    ).all()
    assert [n for n, _ in quarantined] == list(range(3, 12))
    reasons = dict(quarantined)
    assert "fraction of a penny" in reasons[3]
    assert "USD" in reasons[4]
    assert "payee" in reasons[5]
    assert "unknown_card" in reasons[6]
    assert Ledger(session, clock).balances(budget.id).posted == 100_000 - 300


def test_a_file_without_the_header_is_rejected(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    path = tmp_path / "x.csv"
    path.write_text("not,a,statement\n")
    report = import_statement(_factory(session), path, clock, provider="simulated")
    assert report.rejected
    record = session.get(StatementImport, report.import_id)
    assert record is not None and record.status is ImportStatus.REJECTED


def test_breaks_are_recorded(session: Session, clock: FixedClock, tmp_path: Path) -> None:
    _budget, card = _card(session, clock)
    t = card.provider_card_token
    path = _write(tmp_path, [f"CLOSING_BALANCE,,{t},2026-04-06,999.00,GBP,,,,,,,"])
    clock.current = datetime(2026, 4, 6, 22, 0, tzinfo=UTC)
    report = import_statement(_factory(session), path, clock, provider="simulated")
    assert report.breaks == 1
    (found,) = session.execute(select(ReconciliationBreak)).scalars()
    assert (found.provider_balance, found.ledger_balance, found.card_id) == (
        99_900,
        100_000,
        card.id,
    )
    assert found.difference == -100


def test_large_batches_commit_progress(session: Session, clock: FixedClock, tmp_path: Path) -> None:
    _budget, card = _card(session, clock, loaded=10_000_000)
    t = card.provider_card_token
    lines = [
        f"CARD_PAYMENT,bulk{i},{t},2026-04-06T08:10:00Z,0.01,GBP,Shop,5411,,,,," for i in range(250)
    ]
    path = _write(tmp_path, lines)
    seen = []
    report = import_statement(
        _factory(session), path, clock, provider="simulated", batch_size=100, progress=seen.append
    )
    assert report.applied == 250
    assert sum(seen) == path.stat().st_size
    record = session.get(StatementImport, report.import_id)
    assert (
        record is not None and record.lines_done == 251 and record.status is ImportStatus.COMPLETED
    )


def test_an_interrupted_import_resumes_where_it_stopped(
    session: Session, clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    budget, card = _card(session, clock)
    t = card.provider_card_token
    lines = [
        f"CARD_PAYMENT,r{i},{t},2026-04-06T08:10:00Z,1.00,GBP,Shop,5411,,,,," for i in range(30)
    ]
    path = _write(tmp_path, lines)
    real_commit = statement_file._Importer._commit_batch
    batches: list[int] = []

    def crash_on_the_third(self: object, batch: list[object], final: bool = False) -> None:
        batches.append(len(batch))
        if len(batches) == 3:
            raise KeyboardInterrupt  # the process dies with two batches committed
        real_commit(self, batch, final)  # type: ignore[arg-type]

    monkeypatch.setattr(statement_file._Importer, "_commit_batch", crash_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        import_statement(_factory(session), path, clock, provider="simulated", batch_size=10)
    assert Ledger(session, clock).balances(budget.id).posted == 100_000 - 2_000
    monkeypatch.setattr(statement_file._Importer, "_commit_batch", real_commit)
    report = import_statement(_factory(session), path, clock, provider="simulated", batch_size=10)
    assert (report.applied, report.duplicate) == (30, 0)
    assert Ledger(session, clock).balances(budget.id).posted == 100_000 - 3_000


def test_an_unexpected_failure_quarantines_only_its_line(
    session: Session, clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    budget, card = _card(session, clock)
    t = card.provider_card_token
    lines = [
        f"CARD_PAYMENT,u{i},{t},2026-04-06T08:10:00Z,1.00,GBP,Shop,5411,,,,," for i in range(5)
    ]
    path = _write(tmp_path, lines)
    real_apply = EventApplier.apply

    def flaky(self: EventApplier, event: CanonicalEvent, **kw: object) -> object:
        if event.event_id == "u2":
            raise RuntimeError("a bug")
        return real_apply(self, event, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(EventApplier, "apply", flaky)
    report = import_statement(_factory(session), path, clock, provider="simulated")
    assert (report.applied, report.quarantined) == (4, 1)
    assert report.problems == [(4, "error: RuntimeError: a bug")]
    assert Ledger(session, clock).balances(budget.id).posted == 100_000 - 400


def test_a_statement_line_settles_a_webhook_hold(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    budget, card = _card(session, clock)
    t = card.provider_card_token
    sim = SimulatedProvider(session, clock)
    pid, answer = sim.purchase(t, 2_500)
    assert answer["approved"]
    assert Ledger(session, clock).balances(budget.id).available == 100_000 - 2_500
    path = _write(
        tmp_path, [f"CARD_PAYMENT,s1,{t},2026-04-06T08:10:00Z,24.00,GBP,Shop,5411,,,{pid},,"]
    )
    report = import_statement(_factory(session), path, clock, provider="simulated")
    assert report.applied == 1
    balances = Ledger(session, clock).balances(budget.id)
    assert (balances.posted, balances.available) == (100_000 - 2_400, 100_000 - 2_400)
