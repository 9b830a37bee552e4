"""The daily statement file: streamed import, quarantine, idempotency, reconciliation."""

from __future__ import annotations

import gc
import hashlib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from adapters import statement_file
from adapters.apply import EventApplier
from adapters.canonical import CanonicalEvent
from adapters.models import CardCommandRecord, ImportStatus, QuarantinedLine, StatementImport
from adapters.outbound import OutboundCommands
from adapters.repositories import cards as cards_repo
from adapters.repositories import statements as statements_repo
from adapters.simulated import SimulatedProvider
from adapters.statement_file import HEADER, import_statement
from ledger.card_payments import CardPayments
from ledger.chain import verify_chain
from ledger.checks import check_balances
from ledger.clock import FixedClock
from ledger.models import ReconciliationBreak, Transfer
from ledger.ports import CardCommand
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


def _day_of_lines(t: str, c: str, tag: str) -> list[str]:
    """A day on a budget's card (t) and its companion card (c): money in and out, a
    payment beyond the funds (into arrears, then repaid by a contribution)."""
    day = "2026-04-06"
    return [
        f"LOAD,{tag}1,{t},{day}T06:00:00Z,50.00,GBP,,,Council,L-{tag},,,",
        f"CARD_PAYMENT,{tag}2,{t},{day}T08:00:00+01:00,12.34,GBP,Boots,5912,,,,,",
        f"CARD_PAYMENT,{tag}3,{c},{day}T08:30:00Z,5.00,GBP,Cafe,5812,,,,,",
        f"REFUND,{tag}4,{c},{day}T09:00:00Z,1.00,GBP,Cafe,5812,,,,,",
        f"UNLOAD,{tag}5,{t},{day}T09:15:00Z,0.50,GBP,,,,U-{tag},,,",
        f"DIRECT_DEBIT,{tag}6,{t},{day}T09:30:00Z,1100.00,GBP,,,Care Agency Ltd,DD1,,,",
        f"CASH_WITHDRAWAL,{tag}7,{c},{day}T10:00:00Z,9.00,GBP,ATM,6011,,,,,",
        f"CONTRIBUTION,{tag}8,{t},{day}T11:00:00Z,30.00,GBP,,,,C-{tag},,,",
        f"FEE,{tag}9,{t},{day}T12:00:00Z,1.50,GBP,,,,F-{tag},,,",
        f"STANDING_ORDER,{tag}10,{t},{day}T14:00:00Z,3.00,GBP,,,A PA,SO-{tag},,,",
    ]


def _positions(session: Session, clock: FixedClock, h: factories.Household) -> list[object]:
    ledger = Ledger(session, clock)
    arrears = cards_repo.arrears_account_ids(session, [h.budget.id])[h.budget.id]
    return [
        (b.posted, b.available, b.pending_debits)
        for b in (ledger.balances(a) for a in (h.budget.id, h.pot.account_id, arrears))
    ]


def test_a_batched_import_ends_where_applying_line_by_line_ends(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    imported = factories.household(session, clock, loaded=100_000, pot=2_000)
    by_hand = factories.household(session, clock, loaded=100_000, pot=2_000)
    # The lines, each applied on its own through the applier, on one household (first:
    # the import's sessions share this test's connection, and its ledger cache)...
    applier = EventApplier(session, clock, provider="simulated")
    for line in _day_of_lines(
        by_hand.card.provider_card_token, by_hand.companion_card.provider_card_token, "b"
    ):
        event = statement_file.parse_line(line.split(","))
        assert isinstance(event, CanonicalEvent)
        applier.apply(event)
    session.flush()
    # ... and the same lines imported in batches on the other.
    lines = _day_of_lines(
        imported.card.provider_card_token, imported.companion_card.provider_card_token, "a"
    )
    path = _write(tmp_path, lines)
    report = import_statement(_factory(session), path, clock, provider="simulated", batch_size=4)
    assert (report.applied, report.quarantined) == (10, 0), report.problems

    assert _positions(session, clock, imported) == _positions(session, clock, by_hand)
    # The payment beyond the funds went to arrears, and the contribution repaid it first.
    assert _positions(session, clock, imported)[2][0] != 0
    assert verify_chain(session).ok
    assert check_balances(session).ok


def test_runs_of_closing_balances_are_reconciled_as_if_one_by_one(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    clock.current = datetime(2026, 4, 4, 9, 0, tzinfo=UTC)  # loaded before the statement days
    _a_budget, a = _card(session, clock)
    _b_budget, b = _card(session, clock)
    ta, tb = a.provider_card_token, b.provider_card_token
    path = _write(
        tmp_path,
        [
            f"CARD_PAYMENT,p1,{ta},2026-04-05T10:00:00Z,10.00,GBP,Shop,5411,,,,,",  # line 2
            f"CLOSING_BALANCE,,{ta},2026-04-05,990.00,GBP,,,,,,,",  # agrees
            f"CLOSING_BALANCE,,{tb},2026-04-05,999.00,GBP,,,,,,,",  # a break
            f"CLOSING_BALANCE,,{tb},2026-04-05,998.00,GBP,,,,,,,",  # the same card and day
            "CLOSING_BALANCE,,nobody,2026-04-05,1.00,GBP,,,,,,,",  # line 6: unknown card
            "CLOSING_BALANCE,,broken",  # line 7: not a statement line
            f"CLOSING_BALANCE,,{ta},2026-04-06,990.00,GBP,,,,,,,",  # next day, still agrees
            # A payment after the run (and dated the 6th) counts for the next run only.
            f"CARD_PAYMENT,p2,{ta},2026-04-06T10:00:00Z,20.00,GBP,Shop,5411,,,,,",
            f"CLOSING_BALANCE,,{ta},2026-04-06,970.00,GBP,,,,,,,",  # agrees after it
            f"CLOSING_BALANCE,,{ta},2026-04-05,990.00,GBP,,,,,,,",  # the 5th still agrees
            f"CLOSING_BALANCE,,{ta},2026-04-06,980.00,GBP,,,,,,,",  # a break
        ],
    )
    report = import_statement(_factory(session), path, clock, provider="simulated")
    assert (report.applied, report.balances_checked, report.breaks) == (2, 7, 2)
    assert [n for n, _ in report.problems] == [6, 7]
    assert "unknown_card" in report.problems[0][1]
    breaks = session.execute(
        select(ReconciliationBreak.card_id, ReconciliationBreak.as_of,
               ReconciliationBreak.provider_balance, ReconciliationBreak.ledger_balance)
        .order_by(ReconciliationBreak.id)
    ).all()  # fmt: skip
    assert [tuple(row) for row in breaks] == [
        (b.id, date(2026, 4, 5), 99_900, 100_000),
        (a.id, date(2026, 4, 6), 98_000, 97_000),
    ]


def test_a_load_that_echoes_our_command_is_not_moved_twice(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    budget, card = _card(session, clock)
    sim = SimulatedProvider(session, clock)
    outcome = OutboundCommands(session, clock, {"simulated": sim}).send(
        card.id, CardCommand.LOAD, key="LOAD-APR-77", amount=5_000
    )
    assert outcome.accepted
    t = card.provider_card_token
    path = _write(
        tmp_path,
        [
            f"LOAD,e1,{t},2026-04-06T06:00:00Z,50.00,GBP,,,Council,LOAD-APR-77,,,",  # ours
            f"LOAD,e2,{t},2026-04-06T06:00:00Z,50.00,GBP,,,Council,LOAD-OTHER,,,",  # not ours
        ],
    )
    report = import_statement(_factory(session), path, clock, provider="simulated")
    assert (report.applied, report.duplicate) == (1, 1)
    assert Ledger(session, clock).balances(budget.id).posted == 100_000 + 5_000
    record = session.execute(select(CardCommandRecord)).scalar_one()
    assert record.confirmed_by_event_id is None  # a statement line has no inbox event


def test_a_transaction_also_sent_by_webhook_has_one_effect(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    budget, card = _card(session, clock)
    t = card.provider_card_token
    applier = EventApplier(session, clock, provider="simulated")
    webhook = statement_file.parse_line(
        f"CARD_PAYMENT,w1,{t},2026-04-06T08:10:00Z,12.34,GBP,Shop,5411,,,,,".split(",")
    )
    assert isinstance(webhook, CanonicalEvent)
    applier.apply(webhook)
    session.flush()
    path = _write(
        tmp_path,
        [
            f"CARD_PAYMENT,w0,{t},2026-04-06T08:00:00Z,1.00,GBP,Shop,5411,,,,,",
            f"CARD_PAYMENT,w1,{t},2026-04-06T08:10:00Z,12.34,GBP,Shop,5411,,,,,",
            f"CARD_PAYMENT,w2,{t},2026-04-06T08:20:00Z,2.00,GBP,Shop,5411,,,,,",
            f"CARD_PAYMENT,w2,{t},2026-04-06T08:20:00Z,2.00,GBP,Shop,5411,,,,,",  # twice
            f"CARD_PAYMENT,w1,{t},2026-04-06T08:10:00Z,99.99,GBP,Shop,5411,,,,,",  # other content
        ],
    )
    report = import_statement(_factory(session), path, clock, provider="simulated")
    assert (report.applied, report.duplicate, report.quarantined) == (2, 2, 1)
    assert "idempotency_conflict" in report.problems[0][1]
    assert Ledger(session, clock).balances(budget.id).posted == 100_000 - 1_234 - 100 - 200
    assert verify_chain(session).ok


def test_lines_settling_holds_in_savepoints_mix_with_the_batch(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    budget, card = _card(session, clock)
    _other_budget, other = _card(session, clock)
    sim = SimulatedProvider(session, clock)
    pid, answer = sim.purchase(card.provider_card_token, 2_500)
    other_pid, other_answer = sim.purchase(other.provider_card_token, 1_000)
    assert answer["approved"] and other_answer["approved"]
    t = card.provider_card_token
    path = _write(
        tmp_path,
        [
            f"CARD_PAYMENT,m1,{t},2026-04-06T08:00:00Z,1.00,GBP,Shop,5411,,,,,",
            f"CARD_PAYMENT,m2,{t},2026-04-06T08:10:00Z,24.00,GBP,Shop,5411,,,{pid},,",
            f"CARD_PAYMENT,m3,{t},2026-04-06T08:20:00Z,2.00,GBP,Shop,5411,,,,,",
            # Another card's authorisation: refused in its savepoint, the rest stands.
            f"CARD_PAYMENT,m4,{t},2026-04-06T08:30:00Z,5.00,GBP,Shop,5411,,,{other_pid},,",
            f"CARD_PAYMENT,m5,{t},2026-04-06T08:40:00Z,3.00,GBP,Shop,5411,,,,,",
            f"LOAD,m6,{t},2026-04-06T09:00:00Z,10.00,GBP,,,Council,L-m6,,,",
        ],
    )
    report = import_statement(_factory(session), path, clock, provider="simulated")
    assert (report.applied, report.quarantined) == (5, 1), report.problems
    assert report.problems[0][0] == 5
    balances = Ledger(session, clock).balances(budget.id)
    assert (balances.posted, balances.available) == (
        100_000 - 100 - 2_400 - 200 - 300 + 1_000,
        100_000 - 100 - 2_400 - 200 - 300 + 1_000,
    )
    assert verify_chain(session).ok
    assert check_balances(session).ok


def test_long_transaction_ids_never_collide(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    """Two ids that differ only after the key column's 200 characters are two
    transactions; an id just under 200 characters still leaves room for the ledger's
    suffix on a linked set (a payment beyond the funds: the budget, then arrears)."""
    budget, card = _card(session, clock, loaded=100)
    t = card.provider_card_token
    shared = "x" * 230
    near = "n" * 199
    lines = [
        f"CARD_PAYMENT,{near},{t},2026-04-06T08:00:00Z,5.00,GBP,Shop,5411,,,,,",
        f"CARD_PAYMENT,{shared}a,{t},2026-04-06T08:10:00Z,1.00,GBP,Shop,5411,,,,,",
        f"CARD_PAYMENT,{shared}b,{t},2026-04-06T08:11:00Z,2.00,GBP,Shop,5411,,,,,",
    ]
    path = _write(tmp_path, lines)
    report = import_statement(_factory(session), path, clock, provider="simulated")
    assert (report.applied, report.duplicate, report.quarantined) == (3, 0, 0), report.problems
    keys = session.scalars(
        select(Transfer.idempotency_key).where(Transfer.idempotency_source == "simulated")
    ).all()
    assert len(keys) == 4 and len(set(keys)) == 4, keys
    assert all(len(key) <= 200 for key in keys)
    # The same transactions in another file are recognised, each as itself.
    other = _write(tmp_path, [*lines, ""], "again.csv")
    again = import_statement(_factory(session), other, clock, provider="simulated")
    assert (again.applied, again.duplicate) == (0, 3)
    arrears = cards_repo.arrears_account_ids(session, [budget.id])[budget.id]
    ledger = Ledger(session, clock)
    assert ledger.balances(budget.id).posted == 0
    assert ledger.balances(arrears).posted == -(400 + 100 + 200)
    assert verify_chain(session).ok


def test_a_file_of_another_providers_cards_is_rejected_whole_and_can_be_imported_again(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    budget, card = _card(session, clock)
    t = card.provider_card_token
    path = _write(
        tmp_path,
        [
            f"CARD_PAYMENT,pv1,{t},2026-04-06T08:10:00Z,1.00,GBP,Shop,5411,,,,,",
            f"CLOSING_BALANCE,,{t},2026-04-06,999.00,GBP,,,,,,,",
        ],
    )
    wrong = import_statement(_factory(session), path, clock, provider="stripe")
    assert wrong.rejected is not None and "no line names a stripe card" in wrong.rejected
    assert not wrong.already_imported
    record = session.get(StatementImport, wrong.import_id)
    assert record is not None and record.status is ImportStatus.REJECTED
    assert record.reason == wrong.rejected
    # Nothing applied, nothing quarantined: the file was refused, not completed.
    assert session.execute(select(QuarantinedLine)).all() == []
    assert session.execute(select(ReconciliationBreak)).all() == []
    assert Ledger(session, clock).balances(budget.id).posted == 100_000
    # Imported again with the same provider: rejected again (never "already imported").
    again = import_statement(_factory(session), path, clock, provider="stripe")
    assert again.rejected is not None and not again.already_imported
    # With the right provider the same file imports.
    right = import_statement(_factory(session), path, clock, provider="simulated")
    assert right.import_id == wrong.import_id
    assert (right.rejected, right.applied, right.balances_checked) == (None, 1, 1)
    session.refresh(record)
    assert (record.status, record.provider, record.reason) == (
        ImportStatus.COMPLETED,
        "simulated",
        None,
    )
    assert Ledger(session, clock).balances(budget.id).posted == 100_000 - 100


def test_a_file_whose_first_known_card_comes_late_is_imported(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    """The provider check reads on until it meets a known card: many unknown tokens
    first (more than one look-up's worth) do not reject the file."""
    budget, card = _card(session, clock)
    unknown = [
        f"CARD_PAYMENT,uk{i},nobody-{i},2026-04-06T08:10:00Z,1.00,GBP,Shop,5411,,,,,"
        for i in range(700)
    ]
    known = (
        f"CARD_PAYMENT,kn1,{card.provider_card_token},2026-04-06T08:10:00Z,2.00,GBP,Shop,5411,,,,,"
    )
    path = _write(tmp_path, [*unknown, known])
    report = import_statement(_factory(session), path, clock, provider="simulated")
    assert (report.rejected, report.applied, report.quarantined) == (None, 1, 700)
    assert Ledger(session, clock).balances(budget.id).posted == 100_000 - 200


def test_a_rejected_file_says_so_when_imported_again(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    path = tmp_path / "x.csv"
    path.write_text("not,a,statement\n")
    first = import_statement(_factory(session), path, clock, provider="simulated")
    again = import_statement(_factory(session), path, clock, provider="simulated")
    assert first.rejected is not None and again.rejected == first.rejected
    assert not again.already_imported and again.import_id == first.import_id


def test_the_file_is_kept_byte_for_byte_under_its_digest(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    _budget, card = _card(session, clock)
    t = card.provider_card_token
    path = _write(tmp_path, [f"CARD_PAYMENT,ar1,{t},2026-04-06T08:10:00Z,1.00,GBP,Shop,5411,,,,,"])
    archive = tmp_path / "kept"
    report = import_statement(_factory(session), path, clock, provider="simulated", archive=archive)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    kept = archive / f"{digest}.csv"
    assert kept.read_bytes() == path.read_bytes()
    assert report.archived_as == str(kept)
    record = session.get(StatementImport, report.import_id)
    assert record is not None
    assert (record.file_sha256, record.file_name, record.file_size, record.archived_as) == (
        digest,
        "statement.csv",
        path.stat().st_size,
        str(kept),
    )
    # The same bytes under another name: known, and kept once.
    copy = tmp_path / "copy.csv"
    copy.write_bytes(path.read_bytes())
    again = import_statement(_factory(session), copy, clock, provider="simulated", archive=archive)
    assert again.already_imported
    assert sorted(p.name for p in archive.iterdir()) == [f"{digest}.csv"]


def test_the_import_leaves_the_garbage_collector_as_it_found_it(
    session: Session, clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Collections are fewer during an import (objects alive before it are frozen), and
    the collector is as it was afterwards, even when the import is interrupted."""
    _budget, card = _card(session, clock)
    t = card.provider_card_token
    thresholds, frozen = gc.get_threshold(), gc.get_freeze_count()
    seen: list[tuple[tuple[int, int, int], int]] = []
    real_commit = statement_file._Importer._commit_batch

    def watch(self: object, batch: list[object], final: bool = False) -> None:
        seen.append((gc.get_threshold(), gc.get_freeze_count()))
        if len(seen) == 2:
            raise KeyboardInterrupt
        real_commit(self, batch, final)  # type: ignore[arg-type]

    monkeypatch.setattr(statement_file._Importer, "_commit_batch", watch)
    lines = [f"FEE,gc{i},{t},2026-04-06T08:10:00Z,0.01,GBP,,,,F,,," for i in range(3)]
    with pytest.raises(KeyboardInterrupt):
        import_statement(
            _factory(session), _write(tmp_path, lines), clock, provider="simulated", batch_size=2
        )
    (during, during_frozen), _ = seen
    assert during[0] >= 50_000 and during_frozen > frozen
    assert (gc.get_threshold(), gc.get_freeze_count()) == (thresholds, frozen)


def test_the_batch_reads_ahead_keys_of_transfers_and_of_declined_authorisations(
    session: Session, clock: FixedClock, tmp_path: Path
) -> None:
    """The import's own key lookup (one probe a key) finds what the engine's would: keys
    of transfers and of card authorisations, of this provider only, past 400 keys."""
    budget, card = _card(session, clock, loaded=1_000)
    ledger = CardPayments(session, clock)
    ledger.record_clearing(card.id, 100, source="simulated", key="k-webhook")
    declined = ledger.authorise(card.id, 50_000, source="simulated", key="k-declined")
    assert not declined.approved
    session.flush()
    many = [f"k-new-{n}" for n in range(450)]
    assert statements_repo.idempotency_keys_used(
        session, "simulated", ["k-webhook", *many, "k-declined", "k-webhook"]
    ) == {"k-webhook", "k-declined"}
    assert statements_repo.idempotency_keys_used(session, "stripe", ["k-webhook"]) == set()
    assert statements_repo.idempotency_keys_used(session, "simulated", []) == set()

    t = card.provider_card_token
    path = _write(
        tmp_path,
        [
            f"CARD_PAYMENT,k-new-1,{t},2026-04-06T08:00:00Z,1.00,GBP,Shop,5411,,,,,",
            # The provider's id of the payment we declined: not a new posting.
            f"CARD_PAYMENT,k-declined,{t},2026-04-06T08:10:00Z,2.00,GBP,Shop,5411,,,,,",
            f"CARD_PAYMENT,k-new-2,{t},2026-04-06T08:20:00Z,3.00,GBP,Shop,5411,,,,,",
        ],
    )
    report = import_statement(_factory(session), path, clock, provider="simulated")
    assert (report.applied, report.quarantined) == (2, 1), report.problems
    assert report.problems[0][0] == 3
    assert "idempotency_conflict" in report.problems[0][1]
    assert Ledger(session, clock).balances(budget.id).posted == 1_000 - 100 - 100 - 300
    assert verify_chain(session).ok
