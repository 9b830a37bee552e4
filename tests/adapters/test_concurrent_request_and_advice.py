"""A real-time request racing its own ``issuing_authorization.created`` (Stripe answered by
its timeout rule while our decision was still being made, say): whichever is applied
first, the payment is held once, one decision is recorded for it, and the books balance.
Each pair is sent at the same moment from two threads, each with its own connection."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from adapters import stripe_issuing
from adapters.models import CardPayment, CardPaymentHold, InboundEvent, InboxStatus
from ledger.checks import check_balances
from ledger.clock import FixedClock
from ledger.models import Authorisation
from ledger.service import Ledger
from tests import factories
from tests.adapters.stripe_support import SECRETS, StripeSender

PAIRS = 30
AMOUNT = 300
LOADED = 100_000


@pytest.mark.concurrency
def test_a_request_and_its_created_event_at_once_hold_the_payment_once(
    committed: sessionmaker[Session],
) -> None:
    clock = FixedClock()
    with committed() as session:
        _, budget, card = factories.budget_with_card(session, clock, loaded=LOADED)
        card.provider, card.provider_card_token = "stripe", f"ic_pair_{card.id}"
        session.commit()
        budget_id, token = budget.id, card.provider_card_token
    sender = StripeSender(clock, token)
    deliveries = []
    for i in range(PAIRS):
        request = sender.envelope(
            "issuing_authorization.request",
            sender.authorization(f"iauth_pair_{i}", pending=AMOUNT),
            f"evt_pair_request_{i}",
        )
        created = sender.envelope(
            "issuing_authorization.created",
            sender.authorization(f"iauth_pair_{i}", amount=AMOUNT),
            f"evt_pair_created_{i}",
        )
        deliveries.append((request, created))

    def send(body: bytes, barrier: threading.Barrier) -> tuple[int, dict[str, object]]:
        with committed() as session:
            barrier.wait()
            r = stripe_issuing.handle_webhook(session, body, sender.headers(body), clock, SECRETS)
            return r.status, r.json_body

    with ThreadPoolExecutor(2) as pool:
        for request, created in deliveries:
            barrier = threading.Barrier(2)
            asked = pool.submit(send, request, barrier)
            advised = pool.submit(send, created, barrier)
            assert asked.result()[0] == 200
            status, body = advised.result()
            assert status == 200 and body["status"] in ("applied", "duplicate"), body

    with committed() as session:
        assert session.execute(select(func.count()).select_from(CardPayment)).scalar_one() == PAIRS
        holds = session.execute(
            select(CardPaymentHold.payment_id, func.count()).group_by(CardPaymentHold.payment_id)
        ).all()
        assert len(holds) == PAIRS and all(n == 1 for _, n in holds)
        decisions = session.execute(select(func.count()).select_from(Authorisation)).scalar_one()
        assert decisions == PAIRS
        balances = Ledger(session, clock).balances(budget_id)
        assert balances.pending_debits == PAIRS * AMOUNT
        assert balances.available == LOADED - PAIRS * AMOUNT
        parked = session.execute(
            select(func.count()).where(InboundEvent.status == InboxStatus.PARKED)
        ).scalar_one()
        assert parked == 0
        assert check_balances(session).ok
