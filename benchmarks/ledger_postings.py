"""Durable posting throughput: the ledger against raw SQL through the same driver.

The ledger posts card spend (``CardPayments.record_clearing``: a force-posted settlement
from a personal budget to card spend clearing), with everything it does for real:
idempotency, the chain-head lock and hash, the no-overdraft check, the running totals.
The baseline does the same writes with raw SQL through the same DBAPI connection
settings: insert the transfer row, update the two account rows.

- single: one posting per database transaction (each commit is durable: WAL with
  synchronous=FULL on SQLite, fsync on PostgreSQL);
- batched: 1,000 postings per transaction, in a ``ledger.postings.deferred`` block (each
  posting checked and chained in turn, written together at the end).

Baseline and ledger run in alternating rounds so machine noise falls on both.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.databases import BenchDatabase, available, migrated
from benchmarks.figures import Figure, Scale, with_baseline
from ledger import postings
from ledger.card_payments import CardPayments
from ledger.enrolment import Enrolment, PlanLineSpec
from ledger.models import AccountKind, CardKind, PlanCategory, PlanKind

SINGLE_TARGET = 0.5
BATCHED_TARGET = 0.3
BATCH = 1000
CARDS = 50

SIZES: dict[str, dict[str, int]] = {
    # postings per side: (single, batched)
    "small": {"single": 1500, "batched": 20 * BATCH, "rounds": 10},
    "full": {"single": 10000, "batched": 100 * BATCH, "rounds": 20},
}


def run(scale: Scale) -> list[Figure]:
    figures: list[Figure] = []
    for database in available("ledger_postings"):
        figures += _run_on(database, SIZES[scale])
    return figures


def _run_on(database: BenchDatabase, size: dict[str, int]) -> list[Figure]:
    with migrated(database) as engine:
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        cards = _population(factory)
        bench = _Bench(engine, factory, cards)
        rounds = size["rounds"]
        single = _alternate(
            bench.baseline_single, bench.ledger_single, size["single"] // rounds, rounds
        )
        batched = _alternate(
            bench.baseline_batched, bench.ledger_batched, size["batched"] // rounds, rounds
        )
        _check_books(factory)
    label = database.label
    return [
        with_baseline(
            f"ledger.{label}.single_posting", single[1], single[0], "postings/s", SINGLE_TARGET
        ),
        with_baseline(
            f"ledger.{label}.batched_posting", batched[1], batched[0], "postings/s", BATCHED_TARGET
        ),
    ]


def _alternate(
    baseline: Callable[[int], None], ours: Callable[[int], None], per_round: int, rounds: int
) -> tuple[float, float]:
    """Postings per second of (baseline, ledger), measured in alternating rounds."""
    spent = [0.0, 0.0]
    for _ in range(rounds):
        for side, fn in enumerate((baseline, ours)):
            started = time.perf_counter()
            fn(per_round)
            spent[side] += time.perf_counter() - started
    total = per_round * rounds
    return total / spent[0], total / spent[1]


def _population(factory: sessionmaker[Session]) -> list[tuple[int, int]]:
    """CARDS people with loaded budgets and cards: (card id, budget account id)."""
    out = []
    with factory() as session, session.begin():
        enrol = Enrolment(session)
        ledger = CardPayments(session)
        for n in range(CARDS):
            person = enrol.register_person(f"BENCH-{n:05d}", f"Bench Person {n}")
            budget = enrol.open_personal_budget(person)
            enrol.agree_plan(
                person,
                budget,
                kind=PlanKind.CARE_AND_SUPPORT,
                budget_per_period=100_000,
                starts_on=datetime(2026, 4, 6, tzinfo=UTC).date(),
                review_date=datetime(2027, 4, 6, tzinfo=UTC).date(),
                lines=[PlanLineSpec(PlanCategory.AGENCY_CARE, "Homecare", 100_000)],
            )
            card = enrol.issue_card(
                person,
                kind=CardKind.PRIMARY,
                provider="simulated",
                provider_card_token=f"bench_{n}",
                last4="0000",
                budget=budget,
            )
            # Enough that no posting ever runs short: the benchmark measures the common path.
            ledger.load(budget.id, 10**12, source="bench", key=f"load-{n}")
            out.append((card.id, budget.id))
        # Make sure the clearing account exists before either side starts.
        postings.system_account_id(session, AccountKind.MERCHANT_SPEND_CLEARING, datetime.now(UTC))
    return out


class _Bench:
    def __init__(
        self, engine: Engine, factory: sessionmaker[Session], cards: list[tuple[int, int]]
    ) -> None:
        self.engine = engine
        self.factory = factory
        self.cards = cards
        self.sequence = 0
        self.baseline_id = 10**12  # far beyond the ledger's own ids
        with factory() as session, session.begin():
            self.clearing_id = postings.system_account_id(
                session, AccountKind.MERCHANT_SPEND_CLEARING, datetime.now(UTC)
            )
        self.sqlite = engine.dialect.name == "sqlite"
        mark = "?" if self.sqlite else "%s"
        columns = (
            "id, debit_account_id, credit_account_id, amount, code, phase, "
            "idempotency_source, idempotency_key, request_digest, effective_at, created_at, "
            "card_id, merchant_name, mcc, chain_hash"
        )
        self.insert_sql = f"INSERT INTO transfers ({columns}) VALUES ({', '.join([mark] * 15)})"
        self.debit_sql = (
            f"UPDATE accounts SET debits_posted = debits_posted + {mark} WHERE id = {mark}"
        )
        self.credit_sql = (
            f"UPDATE accounts SET credits_posted = credits_posted + {mark} WHERE id = {mark}"
        )

    # -- ledger ----------------------------------------------------------------------

    def _spend(self, session: Session) -> None:
        self.sequence += 1
        card_id, _ = self.cards[self.sequence % len(self.cards)]
        CardPayments(session).record_clearing(
            card_id,
            1 + self.sequence % 5000,
            source="bench",
            key=f"spend-{self.sequence}",
            merchant_name="Bench Pharmacy",
            mcc="5912",
        )

    def ledger_single(self, count: int) -> None:
        for _ in range(count):
            with self.factory() as session, session.begin():
                self._spend(session)

    def ledger_batched(self, count: int) -> None:
        for _ in range(count // BATCH):
            with self.factory() as session, session.begin(), postings.deferred(session):
                for _ in range(BATCH):
                    self._spend(session)

    # -- baseline: the same writes in raw SQL ------------------------------------------

    def _row(self) -> tuple[Any, ...]:
        self.baseline_id += 1
        n = self.baseline_id
        card_id, budget_id = self.cards[n % len(self.cards)]
        now = datetime.now(UTC)
        stamp: Any = now.replace(tzinfo=None).isoformat(sep=" ") if self.sqlite else now
        return (
            n, budget_id, self.clearing_id, 1 + n % 5000, "card_spend", "posted", "baseline",
            f"spend-{n}", "0" * 64, stamp, stamp, card_id, "Bench Pharmacy", "5912", "0" * 64,
        )  # fmt: skip

    def _raw_postings(self, cursor: Any, count: int) -> None:
        for _ in range(count):
            row = self._row()
            cursor.execute(self.insert_sql, row)
            cursor.execute(self.debit_sql, (row[3], row[1]))
            cursor.execute(self.credit_sql, (row[3], row[2]))

    def _raw_transaction(self, count: int) -> None:
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            if self.sqlite:
                cursor.execute("BEGIN IMMEDIATE")
            self._raw_postings(cursor, count)
            if self.sqlite:
                cursor.execute("COMMIT")
            else:
                connection.commit()
            cursor.close()
        finally:
            connection.close()

    def baseline_single(self, count: int) -> None:
        for _ in range(count):
            self._raw_transaction(1)

    def baseline_batched(self, count: int) -> None:
        for _ in range(count // BATCH):
            self._raw_transaction(BATCH)


def _check_books(factory: sessionmaker[Session]) -> None:
    """The ledger's own postings must still verify (the baseline rows sit outside it)."""
    from ledger.checks import check_balances

    with factory() as session:
        report = check_balances(session)
        # Baseline rows bypass the ledger, so totals include them; the trial balance still
        # holds because each baseline posting debits and credits the same amount.
        if report.posted_debits != report.posted_credits:
            raise SystemExit("benchmark broke the trial balance")
