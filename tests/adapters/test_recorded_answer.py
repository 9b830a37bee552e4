"""A real-time request another delivery decided without recording an answer is answered
from the decision the ledger recorded, once that is durable (the barrier), and with a
decline whenever the database fails us there: never with no answer, which the provider
settles by its own timeout rule (Stripe's may approve).

These run on an engine of their own with a pool of one connection, as a busy web worker
would find it: answering must not need a second connection while it holds the first."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from adapters import inbox, marqeta_gateway, stripe_issuing
from adapters.marqeta_gateway import handle_gateway, split_gateway
from ledger.clock import FixedClock
from ledger.db import make_engine
from ledger.service import Ledger
from tests import factories
from tests.adapters.marqeta_support import SECRETS as MARQETA_SECRETS
from tests.adapters.marqeta_support import MarqetaSender
from tests.adapters.stripe_support import SECRETS as STRIPE_SECRETS
from tests.adapters.stripe_support import StripeSender

LOADED = 10_000


@pytest.fixture()
def one_connection(committed: sessionmaker[Session]) -> Iterator[Engine]:
    """An engine on the test database whose pool holds one connection (waits 1 s)."""
    url = committed.kw["bind"].url.render_as_string(hide_password=False)
    engine = make_engine(url, pool_size=1, max_overflow=0, pool_timeout=1)
    try:
        yield engine
    finally:
        engine.dispose()


def _card(session: Session, clock: FixedClock, provider: str, token: str) -> tuple[int, str]:
    """A loaded budget and its card at ``provider``: (budget id, card token)."""
    _, budget, card = factories.budget_with_card(session, clock, loaded=LOADED)
    card.provider, card.provider_card_token = provider, f"{token}-{card.id}"
    session.commit()
    return budget.id, card.provider_card_token


def _decided_without_an_answer(
    session: Session, clock: FixedClock, provider: str, channel: str, body: bytes, events: list
) -> None:
    """Another delivery stored and decided the request and recorded no answer."""
    (stored,) = inbox.store(
        session, provider=provider, channel=channel, body=body, headers={},
        received_at=clock.now(), events=events,
    )  # fmt: skip
    session.commit()
    inbox.apply_event(session, stored.inbox_id, clock, live=True)
    session.commit()


def test_stripe_answers_from_the_recorded_approval_with_one_connection(
    one_connection: Engine,
) -> None:
    clock = FixedClock()
    with Session(one_connection, expire_on_commit=False) as session:
        budget_id, token = _card(session, clock, "stripe", "ic_recorded")
        sender = StripeSender(clock, token)
        body = sender.envelope(
            "issuing_authorization.request",
            sender.authorization("iauth_recorded", pending=300),
            "evt_recorded",
        )
        _decided_without_an_answer(
            session, clock, "stripe", "webhook", body,
            stripe_issuing.FORMAT.split(body, "webhook"),
        )  # fmt: skip

        answer = stripe_issuing.handle_webhook(
            session, body, sender.headers(body), clock, STRIPE_SECRETS
        )

        assert answer.json_body == {"approved": True}
        session.commit()
        assert Ledger(session, clock).balances(budget_id).available == LOADED - 300


def test_marqeta_answers_from_the_recorded_approval_with_one_connection(
    one_connection: Engine,
) -> None:
    clock = FixedClock()
    with Session(one_connection, expire_on_commit=False) as session:
        budget_id, token = _card(session, clock, "marqeta", "mq-recorded")
        m = MarqetaSender(clock, token)
        body = m.jit("recorded", "30.00")
        _decided_without_an_answer(session, clock, "marqeta", "gateway", body, split_gateway(body))

        answer = handle_gateway(
            session, body, MarqetaSender.gateway_headers(), clock, MARQETA_SECRETS
        )

        assert (answer.status, answer.json_body["jit_funding"]["amount"]) == (200, "30.00")
        session.commit()
        assert Ledger(session, clock).balances(budget_id).available == LOADED - 3_000


def test_a_database_failure_while_answering_from_the_record_is_a_decline(
    one_connection: Engine,
) -> None:
    """The approval is recorded, but the database cannot be reached to read it and show
    it durable (here: no connection free in the pool within its timeout)."""
    clock = FixedClock()
    with Session(one_connection, expire_on_commit=False) as session:
        _, token = _card(session, clock, "stripe", "ic_unreachable")
        sender = StripeSender(clock, token)
        body = sender.envelope(
            "issuing_authorization.request",
            sender.authorization("iauth_unreachable", pending=300),
            "evt_unreachable",
        )
        (raw,) = stripe_issuing.FORMAT.split(body, "webhook")
        _decided_without_an_answer(session, clock, "stripe", "webhook", body, [raw])
        m = MarqetaSender(clock, "mq-none")
        jit_body = m.jit("unreachable", "30.00")
        (jit_raw,) = split_gateway(jit_body)

        with one_connection.connect():  # the pool's only connection, taken elsewhere
            stripe_answer = stripe_issuing._recorded_answer(session, raw)
            marqeta_answer = marqeta_gateway._recorded_answer(
                session, jit_raw, marqeta_gateway.jit_of(jit_raw.payload)
            )

        assert stripe_answer == {
            "approved": False,
            "metadata": {"decline_reason": "not_decided"},
        }
        assert marqeta_answer.status == 402
