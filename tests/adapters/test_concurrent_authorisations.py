"""1,000 concurrent real-time authorisation requests on one budget never over-approve."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from adapters import stripe_issuing
from adapters.models import InboundEvent, InboxStatus
from ledger.checks import check_balances
from ledger.clock import FixedClock
from ledger.models import Authorisation
from ledger.service import Ledger
from tests import factories
from tests.adapters.stripe_support import SECRETS, StripeSender

REQUESTS = 1_000
THREADS = 25
AMOUNT = 300
LOADED = 100_000  # room for 333 of them


@pytest.mark.concurrency
def test_concurrent_requests_never_approve_more_than_the_budget_holds(
    committed: sessionmaker[Session],
) -> None:
    clock = FixedClock()
    with committed() as session:
        _, budget, card = factories.budget_with_card(session, clock, loaded=LOADED)
        card.provider, card.provider_card_token = "stripe", f"ic_race_{card.id}"
        session.commit()
        budget_id, token = budget.id, card.provider_card_token

    sender = StripeSender(clock, token)
    bodies = []
    for i in range(REQUESTS):
        body = sender.envelope(
            "issuing_authorization.request",
            sender.authorization(f"iauth_race_{i}", pending=AMOUNT),
            event_id=f"evt_race_{i}",
        )
        bodies.append((body, sender.headers(body)))
    approvals = []
    lock = threading.Lock()

    def worker(share: list[tuple[bytes, dict[str, str]]]) -> None:
        with committed() as session:
            for body, headers in share:
                r = stripe_issuing.handle_webhook(session, body, headers, clock, SECRETS)
                assert r.status == 200, r.json_body
                with lock:
                    approvals.append(r.json_body["approved"])

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(worker, [bodies[i::THREADS] for i in range(THREADS)]))

    assert len(approvals) == REQUESTS
    assert approvals.count(True) == LOADED // AMOUNT
    with committed() as session:
        balances = Ledger(session, clock).balances(budget_id)
        assert balances.available == LOADED % AMOUNT
        assert balances.pending_debits == (LOADED // AMOUNT) * AMOUNT
        assert balances.posted == LOADED
        decisions = session.execute(select(func.count()).select_from(Authorisation)).scalar_one()
        assert decisions == REQUESTS
        applied = session.execute(
            select(func.count()).where(InboundEvent.status == InboxStatus.APPLIED)
        ).scalar_one()
        assert applied == REQUESTS
        assert check_balances(session).ok


@pytest.mark.concurrency
def test_the_same_request_delivered_at_once_is_decided_once(
    committed: sessionmaker[Session],
) -> None:
    clock = FixedClock()
    with committed() as session:
        _, budget, card = factories.budget_with_card(session, clock, loaded=LOADED)
        card.provider, card.provider_card_token = "stripe", f"ic_dup_{card.id}"
        session.commit()
        budget_id, token = budget.id, card.provider_card_token
    sender = StripeSender(clock, token)
    body = sender.envelope(
        "issuing_authorization.request",
        sender.authorization("iauth_dup", pending=AMOUNT),
        "evt_dup",
    )
    headers = sender.headers(body)
    barrier = threading.Barrier(8)

    def deliver_once(_: int) -> dict[str, object]:
        with committed() as session:
            barrier.wait()
            return stripe_issuing.handle_webhook(session, body, headers, clock, SECRETS).json_body

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(deliver_once, range(8)))
    assert answers == [{"approved": True}] * 8
    with committed() as session:
        assert Ledger(session, clock).balances(budget_id).pending_debits == AMOUNT
        assert session.execute(select(func.count()).select_from(InboundEvent)).scalar_one() == 1
