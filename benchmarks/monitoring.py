"""Monitoring at scale: every monitor over a generated population, then after one more day.

The population is built through the real services: people, budgets, plans and cards with
``Enrolment``; 24 weeks of history (4-weekly loads, contributions, direct debits, card
spend in a spread of merchant categories, some cash) posted with ``ledger.postings.post``
in batches of valid transfers (every account checked, totals kept, the hash chain
extended) inside ``postings.deferred`` blocks, one database transaction per simulated day.
The generator keeps each budget's balance so no posting is ever refused. About one
plan in fifty is given something to find (blocked spend, over-allowance, missed
contributions, unusual-hours cash, a drained load).

Figures, per database:
- ``full_run``: all monitors, first run (every watermark at zero), in seconds;
- ``incremental_run``: all monitors again after one more day of transfers, in seconds;
- ``run_peak_memory``: the largest Python allocation during the full run (tracemalloc),
  in MB, which should stay flat as the population grows (monitors work in SQL).

Scales: ``small`` is 2,000 cards and about 200,000 transfers on SQLite and PostgreSQL;
``full`` is 100,000 cards and about 10,000,000 transfers on PostgreSQL (10,000 cards and
about 1,000,000 on SQLite). ``BENCH_MONITORING_CARDS=N`` sets the number of cards on both
databases whatever the scale (about 98 transfers a card), to measure how each monitor's
time grows between the two: on the 2-core benchmark machine 10,000 cards take about 7
minutes to build on PostgreSQL, 100,000 about an hour.

Why not the population generator (``portal.population``, which ``benchmarks.
monitor_accuracy`` uses for each monitor's precision and recall): it sends every payment
as a provider event through the adapters and the ledger's services, one posting each
(idempotency key, request digest, hash link, per-card lookups), which is what makes it
realistic and what makes it slow for volume. Measured on the 2-core benchmark machine
for 2,012 cards and 186,641 events: 128 s on SQLite and 512 s on PostgreSQL, against
29 s and 65 s for this module's batched postings (thousands of transfers per ledger call)
for the same size. At ``full`` that would be hours, so the timing figures keep this fast
path, and the generator's population is kept to the size accuracy needs.
"""

from __future__ import annotations

import os
import random
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.databases import BenchDatabase, available, migrated
from benchmarks.figures import Figure, Scale
from ledger import postings
from ledger.clock import FixedClock
from ledger.enrolment import Enrolment, PlanLineSpec
from ledger.models import AccountKind, CardKind, PlanCategory, PlanKind, Transfer, TransferCode
from ledger.postings import TransferSpec
from monitoring.monitors import ALL_MONITORS
from monitoring.runner import run_monitor
from monitoring.settings import load_settings

FULL_TARGET = 60.0
INCREMENTAL_TARGET = 5.0
START = date(2026, 1, 5)  # a Monday
WEEKS = 24
CARDS = {
    "small": {"sqlite": 2_000, "postgresql": 2_000},
    "full": {"sqlite": 10_000, "postgresql": 100_000},
}
SOURCE = "bench"

SPEND_MCCS = [
    ("8050", "Homecare Ltd"),
    ("4121", "Town Taxis"),
    ("7997", "Leisure Centre"),
    ("8351", "Day Centre"),
    ("5411", "Supermarket"),
    ("5912", "Pharmacy"),
    ("5200", "Home Store"),
]


@dataclass(frozen=True)
class Holder:
    card_id: int
    budget_id: int
    budget: int  # per 4-week period
    contribution: int
    cash: int
    odd: str  # "" for most; else what is planted


def run(scale: Scale) -> list[Figure]:
    figures: list[Figure] = []
    for database in available("monitoring"):
        figures += _run_on(database, cards_for(scale, database.label))
    return figures


def cards_for(scale: Scale, label: str) -> int:
    """The scale's number of cards for this database, or ``BENCH_MONITORING_CARDS``."""
    chosen = os.environ.get("BENCH_MONITORING_CARDS", "").strip()
    if not chosen:
        return CARDS[scale][label]
    if not chosen.isdigit() or int(chosen) < 1:
        raise SystemExit(f"BENCH_MONITORING_CARDS must be a whole number of cards, not {chosen!r}")
    return int(chosen)


def _run_on(database: BenchDatabase, cards: int) -> list[Figure]:
    label = database.label
    with migrated(database) as engine:
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        clock = FixedClock(datetime.combine(START, datetime.min.time(), UTC))
        started = time.perf_counter()
        holders = _enrol(factory, clock, cards)
        end = START + timedelta(weeks=WEEKS)
        balances = {h.budget_id: 0 for h in holders}
        for day in range((end - START).days):
            _one_day(factory, clock, holders, balances, START + timedelta(days=day))
        transfers = _count(engine)
        with engine.begin() as connection:
            # A live database keeps its planner statistics current (autovacuum); a freshly
            # bulk-loaded one needs telling.
            connection.exec_driver_sql("ANALYZE")
        print(
            f"  {label}: {cards:,} cards, {transfers:,} transfers generated in "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
        clock.current = datetime.combine(end, datetime.min.time(), UTC) + timedelta(hours=6)
        full, hits, peak = _timed_run(factory, clock, trace=True)
        _one_day(factory, clock, holders, balances, end)
        clock.current += timedelta(days=1)
        incremental, more, _ = _timed_run(factory, clock, trace=False)
        print(f"  {label}: full run {hits:,} hits; incremental {more:,} hits", flush=True)
    return [
        Figure(f"monitoring.{label}.transfers", float(transfers), "transfers"),
        Figure(
            f"monitoring.{label}.full_run", round(full, 2), "s", target=FULL_TARGET, better="lower"
        ),
        Figure(
            f"monitoring.{label}.incremental_run",
            round(incremental, 2),
            "s",
            target=INCREMENTAL_TARGET,
            better="lower",
        ),
        Figure(f"monitoring.{label}.run_peak_memory", round(peak, 1), "MB", better="lower"),
    ]


def _timed_run(
    factory: sessionmaker[Session], clock: FixedClock, *, trace: bool
) -> tuple[float, int, float]:
    """Every monitor in one transaction (as ``monitors run all``); prints each one's time."""
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    hits = 0
    lines = []
    with factory() as session, session.begin():
        settings = load_settings(session)
        for monitor in ALL_MONITORS:
            begun = time.perf_counter()
            result = run_monitor(session, clock, monitor, runner="benchmark", settings=settings)
            hits += len(result.hits)
            lines.append(
                f"{monitor.name} {time.perf_counter() - begun:.2f} s ({len(result.hits)} hits)"
            )
    elapsed = time.perf_counter() - started
    peak = 0.0
    if trace:
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    print("    " + "; ".join(lines), flush=True)
    return elapsed, hits, peak


def _enrol(factory: sessionmaker[Session], clock: FixedClock, cards: int) -> list[Holder]:
    rng = random.Random(1)
    holders: list[Holder] = []
    chunk = 500
    for first in range(0, cards, chunk):
        with factory() as session, session.begin():
            enrol = Enrolment(session, clock)
            for n in range(first, min(cards, first + chunk)):
                person = enrol.register_person(f"B-{n:07d}", f"Bench Person {n}")
                budget = enrol.open_personal_budget(person)
                amount = rng.choice([40_000, 60_000, 96_000, 180_000])
                contribution = rng.choice([0, 0, 5_000, 8_000])
                cash = rng.choice([0, 0, 4_000])
                odd = (
                    rng.choice(["blocked", "over", "missed", "night", "drain"])
                    if n % 50 == 7
                    else ""
                )
                enrol.agree_plan(
                    person,
                    budget,
                    kind=PlanKind.CARE_AND_SUPPORT,
                    budget_per_period=amount,
                    client_contribution_per_period=contribution,
                    cash_allowance_per_period=cash,
                    starts_on=START,
                    review_date=START + timedelta(weeks=52 + n % 30),
                    lines=[
                        PlanLineSpec(
                            PlanCategory.AGENCY_CARE,
                            "Homecare",
                            amount * 45 // 100,
                            agreed_payees=("Homecare Agency",),
                        ),
                        PlanLineSpec(PlanCategory.TRANSPORT, "Taxis", amount * 10 // 100),
                        PlanLineSpec(
                            PlanCategory.DAY_ACTIVITY, "Day activities", amount * 17 // 100
                        ),
                        PlanLineSpec(PlanCategory.WELLBEING, "Wellbeing", amount * 17 // 100),
                        PlanLineSpec(PlanCategory.EQUIPMENT, "Equipment", amount * 11 // 100),
                    ],
                )
                card = enrol.issue_card(
                    person,
                    kind=CardKind.PRIMARY,
                    provider="bench",
                    provider_card_token=f"bench-{n}",
                    last4=f"{n % 10000:04d}",
                    budget=budget,
                )
                holders.append(Holder(card.id, budget.id, amount, contribution, cash, odd))
    return holders


@dataclass
class Day:
    """One simulated day's postings, batched per hour into linked sets of valid transfers."""

    session: Session
    clock: FixedClock
    accounts: dict[AccountKind, int]
    balances: dict[int, int]  # budget id -> available, as the generator tracks it
    day: date
    batch: int = 0

    def post(self, hour: int, minute: int, specs: list[TransferSpec]) -> None:
        midnight = datetime.combine(self.day, datetime.min.time(), UTC)
        moment = midnight + timedelta(hours=hour, minutes=minute)
        for first in range(0, len(specs), BATCH):
            chunk = specs[first : first + BATCH]
            self.batch += 1
            postings.post(
                self.session,
                source=SOURCE,
                key=f"{self.day.isoformat()}:{self.batch}",
                request={"batch": f"{self.day.isoformat()}:{self.batch}", "n": len(chunk)},
                build=_given(chunk),
                effective_at=moment,
                created_at=moment,
            )

    def spend(self, h: Holder, amount: int, mcc: str, merchant: str) -> TransferSpec | None:
        """Card spend the budget can cover (so no posting is ever refused), else None."""
        if amount <= 0 or self.balances[h.budget_id] < amount:
            return None
        self.balances[h.budget_id] -= amount
        code = TransferCode.CASH_WITHDRAWAL if mcc == "6011" else TransferCode.CARD_SPEND
        return TransferSpec(
            h.budget_id,
            self.accounts[AccountKind.MERCHANT_SPEND_CLEARING],
            amount,
            code,
            card_id=h.card_id,
            merchant_name=merchant,
            mcc=mcc,
        )


BATCH = 5_000


def _given(specs: list[TransferSpec]) -> postings.Builder:
    def build() -> list[TransferSpec]:
        return specs

    return build


def _one_day(
    factory: sessionmaker[Session],
    clock: FixedClock,
    holders: list[Holder],
    balances: dict[int, int],
    day: date,
) -> None:
    """One day of history for everyone: one transaction, posted in deferred batches."""
    rng = random.Random(day.toordinal())
    index = (day - START).days
    in_period = index % 28
    with factory() as session, session.begin():
        now = datetime.combine(day, datetime.min.time(), UTC)
        accounts = {kind: postings.system_account_id(session, kind, now) for kind in SYSTEM}
        d = Day(session, clock, accounts, balances, day)
        with postings.deferred(session):
            if in_period == 0:
                loads = []
                for h in holders:
                    amount = h.budget - h.contribution
                    balances[h.budget_id] += amount
                    funding = accounts[AccountKind.COUNCIL_FUNDING]
                    loads.append(TransferSpec(funding, h.budget_id, amount, TransferCode.LOAD))
                d.post(6, 0, loads)
            if in_period == 2:
                paid = []
                for h in holders:
                    if h.contribution and not (h.odd == "missed" and index >= 56):
                        balances[h.budget_id] += h.contribution
                        clearing = accounts[AccountKind.CONTRIBUTIONS_CLEARING]
                        paid.append(
                            TransferSpec(
                                clearing, h.budget_id, h.contribution, TransferCode.CONTRIBUTION
                            )
                        )
                d.post(9, 0, paid)
            if in_period == 3:
                debits = []
                for h in holders:
                    amount = min(h.budget * 35 // 100, balances[h.budget_id])
                    if amount > 0:
                        balances[h.budget_id] -= amount
                        debits.append(
                            TransferSpec(
                                h.budget_id,
                                accounts[AccountKind.BANK_PAYMENTS_CLEARING],
                                amount,
                                TransferCode.DIRECT_DEBIT,
                                payee="Homecare Agency",
                            )
                        )
                d.post(9, 30, debits)
            for hour in (11, 15):
                spends = []
                for h in holders:
                    if rng.random() < 0.24:
                        mcc, merchant = rng.choice(SPEND_MCCS)
                        amount = rng.randrange(300, h.budget // 30)
                        if h.odd == "over" and mcc == "4121":
                            amount *= 3
                        spends.append(d.spend(h, amount, mcc, merchant))
                d.post(hour, rng.randrange(60), [s for s in spends if s])
            odd = []
            for h in holders:
                if h.cash and in_period == 10:
                    odd.append(d.spend(h, h.cash // 2, "6011", "Cash machine"))
                if h.odd == "blocked" and in_period == 12:
                    odd.append(d.spend(h, 2_500, "7995", "Bookmaker"))
                if h.odd == "drain" and in_period == 1 and index >= 140:
                    odd.append(d.spend(h, balances[h.budget_id] * 9 // 10, "5200", "Home Store"))
            d.post(13, 0, [s for s in odd if s])
            night = [
                d.spend(h, 2_000, "6011", "Cash machine")
                for h in holders
                if h.odd == "night" and in_period in (5, 9, 13, 17)
            ]
            d.post(2, 0, [s for s in night if s])


SYSTEM = (
    AccountKind.COUNCIL_FUNDING,
    AccountKind.CONTRIBUTIONS_CLEARING,
    AccountKind.BANK_PAYMENTS_CLEARING,
    AccountKind.MERCHANT_SPEND_CLEARING,
)


def _count(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(Transfer)).scalar_one())
