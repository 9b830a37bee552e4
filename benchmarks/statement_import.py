"""Statement-file import: events per second, and peak memory as the file grows.

A statement file is generated (``full``: 1,000,000 lines, ``small``: 50,000) for a
population of cards: card payments, cash withdrawals, refunds, direct debits, standing
orders, Faster Payments out, loads, contributions, fees, and each card's closing balance.
It is imported with ``adapters.statement_file.import_statement`` as ``dpledger import``
does (the file kept under its digest first, then read from that copy) on SQLite and on
PostgreSQL, in a child process, which reports its own peak resident memory; a file a
quarter of the size is imported first in another child, so the two peaks show whether
memory stays flat as the file grows.

Events per second counts every line applied (closing balances included), over the whole
import: reading, hashing, parsing, applying, committing each batch.
"""

from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from benchmarks.databases import BenchDatabase, available, migrated
from benchmarks.figures import Figure, Scale
from ledger.card_payments import CardPayments
from ledger.db import INSTANCE_DIR, make_engine
from ledger.enrolment import Enrolment, PlanLineSpec
from ledger.models import CardKind, PlanCategory, PlanKind

TARGETS = {"sqlite": 20_000.0, "postgresql": 10_000.0}
MEMORY_GROWTH_TARGET = 1.25  # the larger file's peak may be at most 25 % above the smaller's
LINES = {"small": 50_000, "full": 1_000_000}
CARDS = {"small": 500, "full": 5_000}
PROVIDER = "bench"
DAY = date(2026, 4, 6)

_MIX = (
    ("CARD_PAYMENT", 70),
    ("CASH_WITHDRAWAL", 4),
    ("REFUND", 4),
    ("DIRECT_DEBIT", 5),
    ("STANDING_ORDER", 3),
    ("FASTER_PAYMENT_OUT", 3),
    ("LOAD", 3),
    ("CONTRIBUTION", 3),
    ("FEE", 5),
)
_MERCHANTS = (("Boots", "5912"), ("Tesco", "5411"), ("Taxi", "4121"), ("Leisure", "7997"))


def run(scale: Scale) -> list[Figure]:
    figures: list[Figure] = []
    lines, cards = LINES[scale], CARDS[scale]
    folder = INSTANCE_DIR / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    for database in available("statement_import"):
        label = database.label
        with migrated(database) as engine:
            tokens = _population(sessionmaker(bind=engine, expire_on_commit=False), cards)
        quarter = folder / f"statement-{label}-quarter.csv"
        whole = folder / f"statement-{label}-whole.csv"
        write_statement(quarter, tokens, lines // 4, prefix="q")
        write_statement(whole, tokens, lines, prefix="w")
        small = _child(database, quarter)
        big = _child(database, whole)
        for path in (quarter, whole, *_kept(folder).glob("*.csv")):
            path.unlink(missing_ok=True)
        rate = big["lines"] / big["seconds"]
        print(
            f"  {label}: {big['lines']:,} lines in {big['seconds']:.1f} s "
            f"(the importing process's own CPU: {big['cpu_seconds']:.1f} s, "
            f"{big['cpu_seconds'] / big['lines'] * 1e6:.0f} us a line; "
            f"{big['applied']:,} applied, {big['checked']:,} closing balances checked, "
            f"{big['quarantined']} quarantined); peak {small['peak_mb']:.0f} MB at "
            f"{small['lines']:,} lines, {big['peak_mb']:.0f} MB at {big['lines']:,}"
        )
        figures.append(
            Figure(
                f"statement_import.{label}.events_per_second",
                round(rate, 1),
                "events/s",
                target=TARGETS[label],
            )
        )
        figures.append(
            Figure(
                f"statement_import.{label}.peak_memory",
                round(big["peak_mb"], 1),
                "MB",
                baseline=round(small["peak_mb"], 1),
                ratio=round(big["peak_mb"] / small["peak_mb"], 3),
                target=MEMORY_GROWTH_TARGET,
                better="lower",
            )
        )
    return figures


def _population(factory: sessionmaker[Session], count: int) -> list[str]:
    """``count`` people with budgets, plans and cards, loaded well beyond any spending."""
    tokens = []
    with factory() as session, session.begin():
        enrol = Enrolment(session)
        ledger = CardPayments(session)
        for n in range(count):
            person = enrol.register_person(f"STMT-{n:06d}", f"Statement Person {n}")
            budget = enrol.open_personal_budget(person)
            enrol.agree_plan(
                person,
                budget,
                kind=PlanKind.CARE_AND_SUPPORT,
                budget_per_period=100_000,
                starts_on=DAY - timedelta(days=28),
                review_date=DAY + timedelta(days=180),
                lines=[PlanLineSpec(PlanCategory.AGENCY_CARE, "Homecare", 100_000)],
                cash_allowance_per_period=10_000,
            )
            token = f"stmt_{n}"
            enrol.issue_card(
                person,
                kind=CardKind.PRIMARY,
                provider=PROVIDER,
                provider_card_token=token,
                last4="0000",
                budget=budget,
            )
            ledger.load(budget.id, 10**11, source="bench", key=f"stmt-load-{n}")
            tokens.append(token)
    return tokens


def write_statement(path: Path, tokens: list[str], lines: int, *, prefix: str) -> None:
    """A statement of ``lines`` lines: transactions, then each card's closing balance
    (which matches no ledger balance here: every card also records a break)."""
    from adapters.statement_file import HEADER

    rng = random.Random(lines)
    kinds = [kind for kind, weight in _MIX for _ in range(weight)]
    start = datetime(DAY.year, DAY.month, DAY.day, 6, tzinfo=UTC)
    closing = min(len(tokens), lines // 10)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER + "\n")
        for n in range(lines - closing):
            kind = kinds[n % len(kinds)]
            token = tokens[rng.randrange(len(tokens))]
            when = (start + timedelta(seconds=n % 50_000)).strftime("%Y-%m-%dT%H:%M:%SZ")
            amount = f"{rng.randrange(1, 5_000) / 100:.2f}"
            merchant, mcc, payee, reference = "", "", "", ""
            if kind in ("CARD_PAYMENT", "REFUND"):
                merchant, mcc = _MERCHANTS[n % len(_MERCHANTS)]
            elif kind == "CASH_WITHDRAWAL":
                merchant, mcc = "ATM", "6011"
            elif kind in ("DIRECT_DEBIT", "STANDING_ORDER", "FASTER_PAYMENT_OUT"):
                payee, reference = "Care Agency Ltd", f"INV{n}"
            elif kind in ("LOAD", "CONTRIBUTION", "FEE"):
                reference = f"{kind.lower()}-{n}"
            out.write(
                f"{kind},{prefix}{n},{token},{when},{amount},GBP,{merchant},{mcc},"
                f"{payee},{reference},,,\n"
            )
        for token in tokens[:closing]:
            out.write(f"CLOSING_BALANCE,,{token},{DAY.isoformat()},0.00,GBP,,,,,,,\n")


def _child(database: BenchDatabase, path: Path) -> dict[str, float]:
    """Import ``path`` in a fresh interpreter; its figures, with its peak memory."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.statement_import", database.url, str(path)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the import child failed:\n{result.stderr[-4000:]}")
    figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def _kept(folder: Path) -> Path:
    """Where the imports keep the files, as ``dpledger import`` keeps them."""
    return folder / "statements"


def _import_here(url: str, path: Path) -> dict[str, float]:
    from adapters.statement_file import import_statement
    from ledger.clock import FixedClock

    engine = make_engine(url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    # The statement day, late: every line is within it.
    clock = FixedClock(datetime(DAY.year, DAY.month, DAY.day, 21, tzinfo=UTC))
    started, cpu_started = time.perf_counter(), time.process_time()
    report = import_statement(factory, path, clock, provider=PROVIDER, archive=_kept(path.parent))
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    engine.dispose()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "lines": report.applied + report.duplicate + report.quarantined + report.balances_checked,
        "applied": report.applied,
        "quarantined": report.quarantined,
        "breaks": report.breaks,
        "checked": report.balances_checked,
        "seconds": seconds,
        # Beside the wall-clock figure: on a shared machine the difference is waiting
        # (for the CPU, the disk, the database server).
        "cpu_seconds": cpu_seconds,
        "peak_mb": peak_kb / 1024,
    }


if __name__ == "__main__":
    print(json.dumps(_import_here(sys.argv[1], Path(sys.argv[2]))))
