"""Real-time authorisation through the real HTTP stack, on PostgreSQL.

The app runs under gunicorn (production config, a few sync workers) in a subprocess bound
to 127.0.0.1 on a free port, against a fresh migrated database with a population of
cards loaded with funds. A load generator in another process sends signed Stripe
``issuing_authorization.request`` webhooks at a fixed 100 requests per second (open
loop: each request leaves at its scheduled time, whatever the earlier ones are doing)
for 20 s (``small``) or 60 s (``full``), each for a new authorisation on a random card.

Figures: p50 and p99 latency (from sending the request to reading the whole answer, new
TCP connection included: gunicorn's sync workers close each one) and errors (anything
but a 200 with ``approved: true``, and requests the generator could not even send within
10 s of their time). Target: p99 at most 20 ms, no errors. For reference, the p50 of 100
requests sent one at a time first (the service time with no queueing).

Only 127.0.0.1 is used; every loop is bounded; gunicorn is stopped at the end whatever
happens. Skipped, with a message, when PostgreSQL is not reachable.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import sessionmaker

from adapters.signatures import sign_timestamped
from benchmarks.databases import available, migrated
from benchmarks.figures import Figure, Scale
from ledger.card_payments import CardPayments
from ledger.db import INSTANCE_DIR
from ledger.enrolment import Enrolment, PlanLineSpec
from ledger.models import CardKind, PlanCategory, PlanKind

RATE = 100  # requests per second
SECONDS = {"small": 20, "full": 60}
CARDS = {"small": 300, "full": 1_000}
# As many workers as cores: every decision takes the ledger's one chain-head lock, so more
# workers mostly queue on it. Measured on a quiet 2-core machine since the lock is no
# longer held through a disk flush: p99 at 100/s of 40.7 and 18.0 ms with 2 workers, 21.9
# with 3, 15.6, 18.3 and 42.2 with 4, 23.1 with 5: no clear gain from more (the spread is
# the machine's). BENCH_HTTP_WORKERS=N tries another number.
WORKERS = int(os.environ.get("BENCH_HTTP_WORKERS", str(os.cpu_count() or 2)))
P99_TARGET_MS = 20.0
# A request that could not even be sent this late counts as an error, unsent, so a server
# that falls behind cannot make the run last much longer than planned.
GIVE_UP_LATE_MS = 10_000.0
SECRET = "whsec_bench_" + "x" * 24
HOST = "127.0.0.1"
LOADED = 1_000_000  # £10,000 on each card: far more than the run spends


def run(scale: Scale) -> list[Figure]:
    databases = [d for d in available("authorisation_http") if d.label == "postgresql"]
    if not databases:
        print("  PostgreSQL not reachable: the HTTP authorisation benchmark needs it, skipped")
        return []
    (database,) = databases
    load_before = os.getloadavg()[0]
    folder = INSTANCE_DIR / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    with migrated(database) as engine:
        tokens = _population(engine, CARDS[scale])
        port = _free_port()
        log_file = folder / "authorisation_http-gunicorn.log"
        with GunicornServer(database.url, port, log_file):
            _warm_up(port, tokens)
            alone = [_send_one(port, tokens[n], f"iauth_alone_{n}", 100)[0] for n in range(100)]
            result = _load_child(port, tokens, SECONDS[scale], folder)
        held = _holds(engine)
    load = os.getloadavg()[0]
    alone_p50 = _percentile(alone, 50)
    latencies = result["latencies_ms"]
    p50 = _percentile(latencies, 50)
    p99 = _percentile(latencies, 99)
    print(
        f"  postgresql: {result['planned']} requests planned at {RATE}/s, "
        f"{result['answered']} answered in {result['seconds']:.1f} s "
        f"({result['answered'] / result['seconds']:.1f}/s; {WORKERS} gunicorn workers, "
        f"{len(tokens)} cards); one at a time: p50 {alone_p50:.1f} ms; "
        f"at {RATE}/s: p50 {p50:.1f} ms, p90 {_percentile(latencies, 90):.1f} ms, "
        f"p99 {p99:.1f} ms, max {max(latencies, default=0):.1f} ms; "
        f"{result['errors']} errors, {result['declined']} declined; "
        f"send lag p99 {result['lag_p99_ms']:.1f} ms; {held} holds placed; "
        f"load average {load_before:.1f} before, {load:.1f} after, on {os.cpu_count()} cores"
    )
    for sample in result["error_samples"]:
        print(f"    error: {sample}")
    return [
        Figure(
            "authorisation over HTTP one at a time p50 (postgresql)",
            round(alone_p50, 2),
            "ms",
            better="lower",
        ),
        Figure("authorisation over HTTP p50 (postgresql)", round(p50, 2), "ms", better="lower"),
        Figure(
            "authorisation over HTTP p99 (postgresql)",
            round(p99, 2),
            "ms",
            target=P99_TARGET_MS,
            better="lower",
        ),
        Figure(
            "authorisation over HTTP errors (postgresql)",
            float(result["errors"]),
            "requests",
            target=0,
            better="lower",
        ),
    ]


# -- the population and the server -------------------------------------------------------


def _population(engine: Engine, count: int) -> list[str]:
    """``count`` people with a plan and a Stripe card each, loaded with funds."""
    today = datetime.now(UTC).date()
    tokens = []
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as session, session.begin():
        enrol = Enrolment(session)
        ledger = CardPayments(session)
        for n in range(count):
            person = enrol.register_person(f"AUTH-{n:06d}", f"Authorisation Person {n}")
            budget = enrol.open_personal_budget(person)
            enrol.agree_plan(
                person,
                budget,
                kind=PlanKind.CARE_AND_SUPPORT,
                budget_per_period=100_000,
                starts_on=today - timedelta(days=14),
                review_date=today + timedelta(days=180),
                lines=[PlanLineSpec(PlanCategory.AGENCY_CARE, "Homecare", 100_000)],
                cash_allowance_per_period=10_000,
            )
            token = f"ic_bench_{n}"
            enrol.issue_card(
                person,
                kind=CardKind.PRIMARY,
                provider="stripe",
                provider_card_token=token,
                last4=f"{n % 10_000:04d}",
                budget=budget,
            )
            ledger.load(budget.id, LOADED, source="bench", key=f"auth-load-{n}")
            tokens.append(token)
    return tokens


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


class GunicornServer:
    """gunicorn serving ``wsgi:app`` on HOST:port; stopped on exit, whatever happened."""

    def __init__(self, url: str, port: int, log_file: Path) -> None:
        self.port = port
        self.log_file = log_file
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(sys.path),
            "DATABASE_URL": url,
            "DPLEDGER_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(40),
            "DPLEDGER_STRIPE_WEBHOOK_SECRETS": SECRET,
            "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "INFO"),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> GunicornServer:
        log = self.log_file.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "wsgi:app",
                "--bind", f"{HOST}:{self.port}",
                "--workers", str(WORKERS),
                "--worker-class", "sync",
                "--timeout", "30",
                "--graceful-timeout", "5",
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=str(Path(__file__).resolve().parent.parent),
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early; see {self.log_file}")
            try:
                status, _ = _request(self.port, "GET", "/health", b"", {})
                if status in (200, 503):
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError(f"gunicorn did not answer within 60 s; see {self.log_file}")

    def __exit__(self, *_exc: object) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def _holds(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                text("SELECT count(*) FROM transfers WHERE phase = 'pending'")
            ).scalar_one()
        )


# -- the load generator (its own process) ---------------------------------------------------


def _load_child(port: int, tokens: list[str], seconds: int, folder: Path) -> dict[str, Any]:
    cards = folder / "authorisation_http-cards.json"
    cards.write_text(json.dumps(tokens))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    try:
        result = subprocess.run(
            [sys.executable, "-m", "benchmarks.authorisation_http", "--port", str(port),
             "--seconds", str(seconds), "--rate", str(RATE), "--cards", str(cards)],
            capture_output=True,
            text=True,
            check=False,
            env=env,
            timeout=seconds + 120,
        )  # fmt: skip
    finally:
        cards.unlink(missing_ok=True)
    if result.returncode != 0:
        raise RuntimeError(f"the load generator failed:\n{result.stderr[-4000:]}")
    loaded: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def authorisation_request(card_token: str, auth_id: str, amount: int) -> bytes:
    """A Stripe ``issuing_authorization.request`` event as Stripe delivers it (GBP)."""
    now = int(time.time())
    authorization = {
        "id": auth_id,
        "object": "issuing.authorization",
        "amount": 0,
        "approved": False,
        "authorization_method": "chip",
        "card": {"id": card_token, "object": "issuing.card", "currency": "gbp"},
        "created": now,
        "currency": "gbp",
        "livemode": False,
        "merchant_amount": 0,
        "merchant_currency": "gbp",
        "merchant_data": {"category": "grocery_stores_supermarkets",
                          "category_code": "5411", "name": "Corner Shop"},
        "pending_request": {"amount": amount, "currency": "gbp", "merchant_amount": amount,
                            "merchant_currency": "gbp", "is_amount_controllable": False},
        "request_history": [],
        "status": "pending",
    }  # fmt: skip
    event = {
        "id": f"evt_{auth_id}",
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": now,
        "data": {"object": authorization},
        "livemode": False,
        "type": "issuing_authorization.request",
    }
    return json.dumps(event).encode()


def _request(
    port: int, method: str, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _send_one(port: int, card: str, auth_id: str, amount: int) -> tuple[float, str | None, bool]:
    """(latency ms, error or None, approved)."""
    body = authorisation_request(card, auth_id, amount)
    headers = {
        "Content-Type": "application/json",
        "Stripe-Signature": sign_timestamped(body, SECRET, int(time.time())),
    }
    started = time.perf_counter()
    try:
        status, answer = _request(port, "POST", "/api/webhooks/stripe", body, headers)
    except OSError as error:
        return (time.perf_counter() - started) * 1000, f"{type(error).__name__}: {error}", False
    elapsed = (time.perf_counter() - started) * 1000
    if status != 200:
        return elapsed, f"HTTP {status}: {answer[:200]!r}", False
    try:
        decided = json.loads(answer)
    except json.JSONDecodeError:
        return elapsed, f"not JSON: {answer[:200]!r}", False
    return elapsed, None, bool(decided.get("approved"))


def _warm_up(port: int, tokens: list[str]) -> None:
    """A few requests per worker first (imports, connection pools), not measured."""
    for n in range(WORKERS * 5):
        _send_one(port, tokens[n % len(tokens)], f"iauth_warm_{n}", 100)


def generate_load(port: int, tokens: list[str], seconds: int, rate: int) -> dict[str, Any]:
    """Open loop: request i leaves at start + i / rate, from a pool of threads."""
    total = seconds * rate
    rng = random.Random(7)
    plan = [(rng.choice(tokens), f"iauth_{i:07d}_{rng.randrange(10**6)}", rng.randrange(100, 2_000))
            for i in range(total)]  # fmt: skip
    latencies: list[float] = []
    lags: list[float] = []
    errors: list[str] = []
    declined = 0
    lock = threading.Lock()

    def task(i: int, due: float) -> None:
        nonlocal declined
        lag = (time.perf_counter() - due) * 1000
        if lag > GIVE_UP_LATE_MS:  # the server has fallen far behind: stop queueing
            with lock:
                errors.append(f"not sent: {lag / 1000:.0f} s late")
            return
        card, auth_id, amount = plan[i]
        elapsed, error, approved = _send_one(port, card, auth_id, amount)
        with lock:
            latencies.append(elapsed)
            lags.append(lag)
            if error is not None:
                errors.append(error)
            elif not approved:
                declined += 1

    start = time.perf_counter() + 0.1
    with ThreadPoolExecutor(max_workers=32) as pool:
        for i in range(total):
            due = start + i / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            pool.submit(task, i, due)
    elapsed = time.perf_counter() - start
    return {
        "planned": total,
        "answered": len(latencies),
        "seconds": elapsed,
        "latencies_ms": latencies,
        "errors": len(errors),
        "error_samples": errors[:5],
        "declined": declined,
        "lag_p99_ms": _percentile(lags, 99),
    }


def _percentile(values: list[float], q: int) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


# -- the service's CPU per request, in process ----------------------------------------------


def cpu_per_request(requests: int, *, profile: Path | None = None) -> None:
    """The service's own CPU per authorisation request, deterministic enough to compare
    one change with the next on a noisy machine: the production app (``create_app``, JSON
    logs to stderr) on a fresh PostgreSQL database with the benchmark's population, the
    Flask test client in this process (no HTTP, no other process), 200 requests to warm
    up, then ``requests`` signed ``issuing_authorization.request`` webhooks one after
    another, each for a new authorisation on a random card; the process's user and system
    CPU (``getrusage``) and the wall time, per request, on stdout (the app's request log
    goes to stderr). ``profile``: a cProfile of the
    measured requests (CPU time) written there. Under ``valgrind --tool=callgrind
    --instr-atstart=no`` with ``BENCH_CALLGRIND=1``, instrumentation is switched on for
    the measured requests only (``callgrind_control -i on``), so the instructions counted,
    divided by ``requests``, are the instructions a request (repeatable to about 1%)."""
    import cProfile
    import resource

    databases = [d for d in available("authorisation_cpu") if d.label == "postgresql"]
    if not databases:
        raise SystemExit("PostgreSQL is not reachable: the measurement needs it")
    (database,) = databases
    os.environ.update(
        {
            "DATABASE_URL": database.url,
            "DPLEDGER_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(40),
            "DPLEDGER_STRIPE_WEBHOOK_SECRETS": SECRET,
        }
    )
    from portal.app import create_app

    with migrated(database) as engine:
        tokens = _population(engine, CARDS["small"])
        app = create_app()
        client = app.test_client()
        rng = random.Random(7)

        def batch(prefix: str, count: int) -> list[tuple[bytes, dict[str, str]]]:
            out = []
            for n in range(count):
                card, amount = rng.choice(tokens), rng.randrange(100, 2_000)
                body = authorisation_request(card, f"iauth_{prefix}_{n}", amount)
                signature = sign_timestamped(body, SECRET, int(time.time()))
                out.append(
                    (body, {"Content-Type": "application/json", "Stripe-Signature": signature})
                )
            return out

        def send(bodies: list[tuple[bytes, dict[str, str]]]) -> None:
            for body, headers in bodies:
                answer = client.post("/api/webhooks/stripe", data=body, headers=headers)
                if answer.status_code != 200 or not (answer.get_json() or {}).get("approved"):
                    raise SystemExit(f"not approved: {answer.status_code} {answer.data[:200]!r}")

        send(batch("warm", 200))
        measured = batch("cpu", requests)
        callgrind = os.environ.get("BENCH_CALLGRIND") == "1"
        profiler = cProfile.Profile(time.process_time) if profile else None
        if callgrind:
            subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True)
        before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        send(measured)
        if profiler is not None:
            profiler.disable()
        after, ended = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        if callgrind:
            subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True)
        engine_of_app = app.extensions["dpledger.engine"]
        engine_of_app.dispose()
    user = (after.ru_utime - before.ru_utime) * 1000 / requests
    system = (after.ru_stime - before.ru_stime) * 1000 / requests
    print(
        f"{requests} requests: CPU {user + system:.2f} ms a request (user {user:.2f}, "
        f"system {system:.2f}), wall {(ended - started) * 1000 / requests:.2f} ms"
    )
    if profiler is not None and profile is not None:
        profiler.dump_stats(str(profile))


def _main() -> None:
    parser = argparse.ArgumentParser(
        description="The load generator (run by the benchmark), or with --cpu N the "
        "service's CPU per request in process (see cpu_per_request)"
    )
    parser.add_argument("--cpu", type=int, help="measure the CPU of N requests in process")
    parser.add_argument("--profile", type=Path, help="with --cpu: write a cProfile here")
    parser.add_argument("--port", type=int)
    parser.add_argument("--seconds", type=int)
    parser.add_argument("--rate", type=int, default=RATE)
    parser.add_argument("--cards", type=Path)
    args = parser.parse_args()
    if args.cpu:
        cpu_per_request(args.cpu, profile=args.profile)
        return
    if args.port is None or args.seconds is None or args.cards is None:
        parser.error("--port, --seconds and --cards are required for the load generator")
    tokens = json.loads(args.cards.read_text())
    print(json.dumps(generate_load(args.port, tokens, args.seconds, args.rate)))


if __name__ == "__main__":
    _main()
