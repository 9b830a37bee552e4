"""The holder's card page and the officers' flag queue, timed through the whole web stack.

Population: the one ``benchmarks.monitoring`` builds (people, plans and cards enrolled
through the real services; 24 weeks of loads, contributions, direct debits and card spend
posted with ``ledger.postings`` in deferred batches), then every monitor run once
(``monitoring.runner.run_all``), so the queue holds what the monitors really raise (at
``full`` 27,440 open flags, most of them spend outside the plan). One flag in ten is then
assigned to one of two officers through ``Triage`` (a third of those put in review), so
"assigned to me" and "in review" have something to find. Sign-in accounts are made with
``create_user``: two officers and a few hundred holders picked at random. Passwords use
argon2's cheapest profile (the tests' one): hashing is not what is measured here, and
the signed-in pages never hash.

Building 10,000,000 transfers takes long, so each population is kept and reused: the
PostgreSQL database ``dpledger_bench_portal_pages_<scale>`` (the SQLite file
``instance/bench/portal_pages-<scale>.db``) carries a ``bench_population`` row naming
what it holds (cards, weeks, ``POPULATION_VERSION`` and a digest of the builder's
source). A run whose row differs, or finds none, builds afresh; otherwise it only
applies migrations added since (new indexes), so the figures measure today's schema.
The build's duration is kept in that row and reported each run.

Measured: the app from ``portal.app.create_app`` against that database (a clock fixed
just after the population's last day), called as a WSGI application, one request at a
time, with the session cookie a real sign-in gave; each request is timed from the WSGI
call to the last byte of its body (the request's transaction committed and closed by
then). After a warm-up, each figure is over ``REQUESTS`` requests:

- ``holder_card_page``: ``/cards/<id>`` of a random signed-in holder;
- ``officer_flag_queue``: ``/officer/flags`` in a random one of ``QUEUE_VIEWS`` (the
  default view, each sort, filters by severity, monitor, status, assignee and age, and
  pages up to the deepest reachable);
- ``holder_payments_page`` and ``holder_plan_page``, for reference (no target);
- ``health``: ``/health`` (two one-row queries, JSON, no session or template), the
  baseline: what the stack itself costs.

Each page's ``cpu_p95`` is the CPU time this thread spent on its requests (the 95th
percentile): what the page costs whatever else the machine is doing. Server time on a
busy machine is mostly waiting for a CPU (this process's, and the database's for each
statement), so the run prints the load average before and after, and each queue view's
figures.

Targets: p95 at most 50 ms for the card page and the queue (issue 5, section 7).
Scales: ``small`` is 1,000 cards (about 100,000 transfers) on SQLite and PostgreSQL;
``full`` is 100,000 cards (about 10,000,000 transfers) on PostgreSQL and 10,000 on SQLite.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import random
import re
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from flask import Flask
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import EnvironBuilder

from benchmarks import monitoring as builder
from benchmarks.databases import PG_SERVER, BenchDatabase
from benchmarks.figures import Figure, Scale
from ledger.clock import FixedClock
from ledger.db import INSTANCE_DIR, make_engine
from ledger.migrate import upgrade
from ledger.models import Transfer
from monitoring.flags import Triage
from monitoring.models import Flag
from monitoring.runner import run_all
from portal.app import create_app
from portal.auth import passwords
from portal.auth.users import create_user
from portal.config import Config
from portal.models import Role

# Bump to rebuild every kept population (the builder's own source is digested too).
POPULATION_VERSION = 1
CARDS = {
    "small": {"sqlite": 1_000, "postgresql": 1_000},
    "full": {"sqlite": 10_000, "postgresql": 100_000},
}
REQUESTS = {"small": 300, "full": 600}
REFERENCE_REQUESTS = {"small": 100, "full": 200}
WARM_UP = 30
SIGNED_IN_HOLDERS = {"small": 100, "full": 300}
TARGET_MS = 50.0
PASSWORD = "benchmark-password-not-secret"
OFFICER = "officer@bench.example.org"
COLLEAGUE = "colleague@bench.example.org"
QUEUE_VIEWS = (
    "",
    "?sort=severity",
    "?sort=newest",
    "?sort=oldest",
    "?severity=high",
    "?severity=low&sort=newest",
    "?monitor=surplus",
    "?monitor=rapid_drain&sort=severity",
    "?assignee=me",
    "?assignee=none&sort=severity",
    "?status=in_review",
    "?status=open&assignee=me",
    "?age=7",
    "?age=over-28&sort=oldest",
    "?page=2",
    "?page=10",
    "?page=20",
    "?sort=severity&page=20",
    "?sort=newest&page=20",
    "?severity=high&severity=medium&sort=newest&page=5",
)


def run(scale: Scale) -> list[Figure]:
    figures: list[Figure] = []
    for database in _databases(scale):
        figures += _run_on(database, scale)
    return figures


# -- the kept population -------------------------------------------------------------------


@dataclass(frozen=True)
class Population:
    transfers: int
    open_flags: int
    build_seconds: float
    holders: list[tuple[str, int]]  # (sign-in email, card id) of the signed-in holders
    ends_at: datetime  # the moment the population's history ends


def _databases(scale: Scale) -> list[BenchDatabase]:
    sqlite_file = INSTANCE_DIR / "bench" / f"portal_pages-{scale}.db"
    out = [BenchDatabase("sqlite", f"sqlite:///{sqlite_file}")]
    name = f"dpledger_bench_portal_pages_{scale}"
    try:
        with psycopg.connect(PG_SERVER, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        print(f"  PostgreSQL not reachable, skipped: {str(error).splitlines()[0]}")
        return out
    out.append(BenchDatabase("postgresql", f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"))
    return out


def _population_key(cards: int) -> str:
    return f"v{POPULATION_VERSION} cards={cards} weeks={builder.WEEKS} builder={BUILDER_DIGEST}"


def _builder_digest() -> str:
    """A digest of the builder's source, taken once at import: ``inspect`` reads the file
    again when it changes on disk, and a long run would then digest the wrong lines."""
    source = "".join(
        inspect.getsource(part)
        for part in (builder._enrol, builder._one_day, builder.Day, _build, _assign_some)
    )
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def _kept(engine: Engine, key: str) -> Population | None:
    with engine.connect() as connection:
        try:
            row = connection.execute(text("SELECT * FROM bench_population")).first()
        except Exception:  # no such table: nothing kept here
            return None
    if row is None or row.key != key:
        print(f"  the kept population is {row.key if row else 'unfinished'}; building {key}")
        return None
    holders = [(e, int(c)) for e, c in (pair.split(" ") for pair in row.holders.split(","))]
    return Population(row.transfers, row.open_flags, row.build_seconds, holders, _ends_at())


def _ends_at() -> datetime:
    end = builder.START + timedelta(weeks=builder.WEEKS)
    return datetime.combine(end, datetime.min.time(), UTC) + timedelta(hours=6)


def _population(database: BenchDatabase, scale: Scale) -> tuple[Population, bool]:
    """The kept population, or a new one; and whether it was built now."""
    cards = CARDS[scale][database.label]
    key = _population_key(cards)
    engine = make_engine(database.url)
    try:
        kept = _kept(engine, key)
        if kept is not None:
            upgrade(engine)  # migrations added since it was built
            return kept, False
        _reset(engine)
        upgrade(engine)
        return _build(engine, key, cards, SIGNED_IN_HOLDERS[scale]), True
    finally:
        engine.dispose()


def _reset(engine: Engine) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        else:
            tables = connection.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'table'")
            ).scalars()
            connection.execute(text("PRAGMA foreign_keys = OFF"))
            for table in list(tables):
                if not table.startswith("sqlite_"):
                    connection.execute(text(f'DROP TABLE IF EXISTS "{table}"'))
            connection.execute(text("PRAGMA foreign_keys = ON"))


def _build(engine: Engine, key: str, cards: int, signed_in: int) -> Population:
    started = time.perf_counter()
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    clock = FixedClock(datetime.combine(builder.START, datetime.min.time(), UTC))
    holders = builder._enrol(factory, clock, cards)
    balances = {h.budget_id: 0 for h in holders}
    end = builder.START + timedelta(weeks=builder.WEEKS)
    for day in range((end - builder.START).days):
        builder._one_day(factory, clock, holders, balances, builder.START + timedelta(days=day))
    _analyse(engine)
    posted = time.perf_counter() - started
    clock.current = _ends_at()
    with factory() as session, session.begin():
        run_all(session, clock, runner="benchmark")
    monitored = time.perf_counter() - started - posted
    hasher = passwords.hasher("cheapest")
    rng = random.Random(3)
    chosen = sorted(rng.sample(range(cards), min(signed_in, cards)))
    signed: list[tuple[str, int]] = []
    with factory() as session, session.begin():
        for email, role in ((OFFICER, Role.OFFICER), (COLLEAGUE, Role.SENIOR_OFFICER)):
            create_user(session, clock, hasher, email=email, role=role, password=PASSWORD)
        for n in chosen:
            email = f"holder{n}@bench.example.org"
            create_user(
                session,
                clock,
                hasher,
                email=email,
                role=Role.HOLDER,
                password=PASSWORD,
                person_ref=f"B-{n:07d}",
            )
            signed.append((email, holders[n].card_id))
        _assign_some(session, clock)
    _analyse(engine)
    build_seconds = time.perf_counter() - started
    with Session(engine) as session:
        transfers = session.execute(select(func.count()).select_from(Transfer)).scalar_one()
        open_flags = session.execute(
            select(func.count()).select_from(Flag).where(Flag.open_key.is_not(None))
        ).scalar_one()
    print(
        f"  built {cards:,} cards, {transfers:,} transfers in {posted:.0f} s; monitors "
        f"{monitored:.0f} s ({open_flags:,} open flags); all in {build_seconds:.0f} s",
        flush=True,
    )
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE bench_population (key VARCHAR(200) PRIMARY KEY, "
                "transfers BIGINT, open_flags BIGINT, build_seconds FLOAT, holders TEXT)"
            )
        )
        connection.execute(
            text("INSERT INTO bench_population VALUES (:k, :t, :f, :s, :h)"),
            {
                "k": key,
                "t": transfers,
                "f": open_flags,
                "s": build_seconds,
                "h": ",".join(f"{e} {c}" for e, c in signed),
            },
        )
    return Population(transfers, open_flags, build_seconds, signed, _ends_at())


def _assign_some(session: Session, clock: FixedClock) -> None:
    """One open flag in ten assigned, alternately to each officer; a third of those in
    review. Through the triage service, as officers would."""
    triage = Triage(session, clock)
    ids = session.execute(
        select(Flag.id).where(Flag.open_key.is_not(None)).order_by(Flag.id)
    ).scalars()
    for i, flag_id in enumerate(list(ids)[::10]):
        officer = OFFICER if i % 2 == 0 else COLLEAGUE
        triage.assign(flag_id, officer=COLLEAGUE, assignee=officer, reason="Benchmark triage")
        if i % 3 == 0:
            triage.start_review(flag_id, officer=officer, reason="Benchmark review")


def _analyse(engine: Engine) -> None:
    # A live database keeps its planner statistics and visibility map current
    # (autovacuum); a freshly bulk-loaded one needs telling.
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM (ANALYZE)")
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")


# -- the measurement ---------------------------------------------------------------------


class BenchConfig(Config):
    ENV_NAME = "benchmark"
    ARGON2_PROFILE = "cheapest"

    def __init__(self, database_url: str) -> None:
        super().__init__()
        self.DATABASE_URL = database_url
        self.LOG_LEVEL = "WARNING"  # not a line per request on the benchmark's output
        self.LOG_FORMAT = "text"


def _run_on(database: BenchDatabase, scale: Scale) -> list[Figure]:
    label = database.label
    started = time.perf_counter()
    population, built = _population(database, scale)
    if not built:
        print(
            f"  {label}: kept population, {population.transfers:,} transfers, "
            f"{population.open_flags:,} open flags (built in {population.build_seconds:.0f} s; "
            f"ready in {time.perf_counter() - started:.0f} s)",
            flush=True,
        )
    clock = FixedClock(population.ends_at + timedelta(hours=4))
    app = create_app(BenchConfig(database.url), clock=clock)
    load = os.getloadavg()[0]
    try:
        holders = [(_sign_in(app, email), card_id) for email, card_id in population.holders]
        officer = _sign_in(app, OFFICER)
        rng = random.Random(4)

        def holder_page(suffix: str) -> Callable[[], tuple[str, str]]:
            def pick() -> tuple[str, str]:
                cookie, card_id = rng.choice(holders)
                return f"/cards/{card_id}{suffix}", cookie

            return pick

        def queue() -> tuple[str, str]:
            return f"/officer/flags{rng.choice(QUEUE_VIEWS)}", officer

        n, reference = REQUESTS[scale], REFERENCE_REQUESTS[scale]
        timings = {
            "health": _measure(app, lambda: ("/health", ""), n),
            "holder_card_page": _measure(app, holder_page(""), n),
            "officer_flag_queue": _measure(app, queue, n),
            "holder_payments_page": _measure(app, holder_page("/payments"), reference),
            "holder_plan_page": _measure(app, holder_page("/plan"), reference),
        }
    finally:
        engine = app.extensions.get("dpledger.engine")
        if engine is not None:
            engine.dispose()
    print(f"  {label}: load average {load:.1f} before, {os.getloadavg()[0]:.1f} after")
    for name, timing in timings.items():
        print(f"    {name}: {timing.summary()}")
    queue_views = timings["officer_flag_queue"].by_path()
    for path, timing in sorted(queue_views.items(), key=lambda kv: -kv[1].p(95)):
        print(f"      {path}: {timing.summary()}")
    return _figures(label, population, timings)


@dataclass
class Timings:
    """Per request: the path, the server time, and this thread's CPU time in it (the
    page's own cost, without waiting for a busy CPU or for the database)."""

    paths: list[str] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def p(self, percent: int, *, cpu: bool = False) -> float:
        """The percentile in milliseconds (inclusive method: never beyond the slowest)."""
        seconds = self.cpu if cpu else self.wall
        if len(seconds) < 2:
            return seconds[0] * 1000 if seconds else 0.0
        return statistics.quantiles(seconds, n=100, method="inclusive")[percent - 1] * 1000

    def summary(self) -> str:
        return (
            f"p50 {self.p(50):.1f} ms, p95 {self.p(95):.1f} ms, p99 {self.p(99):.1f} ms; "
            f"CPU p50 {self.p(50, cpu=True):.1f} ms ({len(self.wall)} requests)"
        )

    def by_path(self) -> dict[str, Timings]:
        out: dict[str, Timings] = {}
        for path, wall, cpu in zip(self.paths, self.wall, self.cpu, strict=True):
            found = out.setdefault(path, Timings())
            found.paths.append(path)
            found.wall.append(wall)
            found.cpu.append(cpu)
        return out


def _figures(label: str, population: Population, timings: dict[str, Timings]) -> list[Figure]:
    prefix = f"portal.{label}"
    health = timings["health"]
    figures = [
        Figure(f"{prefix}.transfers", float(population.transfers), "transfers"),
        Figure(f"{prefix}.open_flags", float(population.open_flags), "flags"),
        Figure(f"{prefix}.population_build", round(population.build_seconds), "s", better="lower"),
        Figure(f"{prefix}.health.p50", round(health.p(50), 2), "ms", better="lower"),
        Figure(f"{prefix}.health.p95", round(health.p(95), 2), "ms", better="lower"),
    ]
    for page in ("holder_card_page", "officer_flag_queue"):
        timing = timings[page]
        figures += [
            Figure(f"{prefix}.{page}.p50", round(timing.p(50), 2), "ms", better="lower"),
            Figure(
                f"{prefix}.{page}.p95",
                round(timing.p(95), 2),
                "ms",
                baseline=round(health.p(95), 2),
                target=TARGET_MS,
                better="lower",
            ),
            Figure(f"{prefix}.{page}.p99", round(timing.p(99), 2), "ms", better="lower"),
            Figure(
                f"{prefix}.{page}.cpu_p95", round(timing.p(95, cpu=True), 2), "ms", better="lower"
            ),
        ]
    for page in ("holder_payments_page", "holder_plan_page"):
        figures.append(
            Figure(f"{prefix}.{page}.p95", round(timings[page].p(95), 2), "ms", better="lower")
        )
    return figures


def _measure(app: Flask, next_request: Callable[[], tuple[str, str]], count: int) -> Timings:
    """``count`` timed requests after a warm-up; each must answer 200."""
    for _ in range(WARM_UP):
        _timed(app, *next_request())
    out = Timings()
    for _ in range(count):
        path, cookie = next_request()
        wall, cpu = _timed(app, path, cookie)
        out.paths.append(path)
        out.wall.append(wall)
        out.cpu.append(cpu)
    return out


def _timed(app: Flask, path: str, cookie: str) -> tuple[float, float]:
    """One request's server time, from the WSGI call to the last byte of the body, and
    the CPU time this thread spent on it."""
    headers = [("Cookie", cookie)] if cookie else []
    environ = EnvironBuilder(path=path, headers=headers, base_url="http://localhost").get_environ()
    status: list[str] = []

    def start_response(code: str, _headers: Any, _exc: Any = None) -> Callable[[bytes], None]:
        status.append(code)
        return lambda _data: None

    cpu_began = time.thread_time()
    began = time.perf_counter()
    body: Iterable[bytes] = app(environ, start_response)
    try:
        size = sum(len(chunk) for chunk in body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    wall = time.perf_counter() - began
    cpu = time.thread_time() - cpu_began
    if not status or not status[0].startswith("200") or size == 0:
        raise RuntimeError(f"GET {path} answered {status[0] if status else 'nothing'}")
    return wall, cpu


def _sign_in(app: Flask, email: str) -> str:
    """Sign in through the real form (CSRF token and all); the session cookie to send."""
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    if found is None:
        raise RuntimeError("the sign-in page has no CSRF token")
    answer = client.post(
        "/sign-in", data={"csrf_token": found.group(1), "email": email, "password": PASSWORD}
    )
    if answer.status_code != 302:
        raise RuntimeError(f"{email} could not sign in ({answer.status_code})")
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name)
    if cookie is None:
        raise RuntimeError(f"{email} signed in but no session cookie was set")
    return f"{name}={cookie.value}"


BUILDER_DIGEST = _builder_digest()
