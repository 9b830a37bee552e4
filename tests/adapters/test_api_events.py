"""Canonical events posted by an API client, through the same inbox."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session, sessionmaker

from adapters import api_events, inbox
from adapters.models import InboxStatus
from adapters.repositories.cards import arrears_account_id
from ledger.clock import FixedClock
from ledger.enrolment import Enrolment
from ledger.models import CardKind
from ledger.service import Ledger
from tests import factories


def _body(*events: dict[str, object]) -> bytes:
    return json.dumps({"events": list(events)}).encode()


def test_canonical_events_about_a_providers_cards(session: Session, clock: FixedClock) -> None:
    _, budget, card = factories.budget_with_card(session, clock, loaded=10_000)
    card.provider, card.provider_card_token = "ukbank", "uk-1"
    session.flush()
    at = clock.now().isoformat()
    body = _body(
        {"kind": "authorisation_request", "event_id": "a1", "payment_id": "a1", "occurred_at": at,
         "card": "uk-1", "amount": "20.00", "mcc": "5411"},
        {"kind": "clearing", "event_id": "c1", "payment_id": "a1", "occurred_at": at,
         "card": "uk-1", "amount": "19.50"},
        {"kind": "standing_order", "event_id": "so1", "occurred_at": at, "card": "uk-1",
         "amount": "100", "payee": "PA"},
    )  # fmt: skip
    response = api_events.handle_events(session, body, clock, provider="ukbank")
    assert response.status == 200
    first, second, third = response.json_body["results"]
    assert (first["approved"], first["status"]) == (True, "applied")
    assert second["status"] == third["status"] == "applied"
    # The standing order is a settled fact: what the budget could not cover is arrears.
    ledger = Ledger(session, clock)
    assert ledger.balances(budget.id).posted == 0
    arrears = arrears_account_id(session, budget.id)
    assert arrears is not None and ledger.balances(arrears).posted == -(1_950 + 10_000 - 10_000)
    assert api_events.handle_events(session, b"{}", clock, provider="ukbank").status == 400


def test_parked_api_events_replay_with_the_canonical_format(
    session: Session, clock: FixedClock
) -> None:
    who, budget, _ = factories.budget_with_card(session, clock, loaded=10_000)
    at = clock.now().isoformat()
    body = _body(
        {"kind": "fee", "event_id": "f1", "occurred_at": at, "card": "later", "amount": "1.25"}
    )
    response = api_events.handle_events(session, body, clock, provider="ukbank")
    assert response.json_body["results"][0]["status"] == "parked"
    Enrolment(session, clock).issue_card(
        who,
        kind=CardKind.PRIMARY,
        provider="ukbank",
        provider_card_token="later",
        last4="0001",
        budget=budget,
    )
    session.commit()
    factory = sessionmaker(bind=session.connection(), join_transaction_mode="create_savepoint")
    report = inbox.replay(factory, clock)
    assert report.outcomes == {InboxStatus.APPLIED: 1}
    assert Ledger(session, clock).balances(budget.id).posted == 10_000 - 125
