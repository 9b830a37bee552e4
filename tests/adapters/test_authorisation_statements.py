"""The real-time path's statements run straight on the driver (``ledger.hot_sql.run``) give
what SQLAlchemy gives for the same statement, and fail as SQLAlchemy fails."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from adapters import stripe_issuing
from adapters.repositories import cards as cards_repo
from adapters.repositories import inbox as inbox_repo
from adapters.repositories import payments as payments_repo
from ledger import card_payments, hot_sql
from ledger.clock import FixedClock
from tests import factories
from tests.adapters.stripe_support import SECRETS, StripeSender


def _both(session: Session, statement: object, params: dict[str, object]) -> tuple[list, list]:
    ours = [tuple(row) for row in hot_sql.run(session, statement, params)]
    theirs = [tuple(row) for row in session.connection().execute(statement, params)]  # type: ignore[call-overload]
    return ours, theirs


def test_the_real_time_statements_read_what_sqlalchemy_reads(
    session: Session, clock: FixedClock
) -> None:
    _, _, card = factories.budget_with_card(session, clock, loaded=10_000)
    card.provider, card.provider_card_token = "stripe", f"ic_stmt_{card.id}"
    session.flush()
    sender = StripeSender(clock, card.provider_card_token)
    body = sender.envelope(
        "issuing_authorization.request", sender.authorization("iauth_stmt", pending=700)
    )
    answer = stripe_issuing.handle_webhook(session, body, sender.headers(body), clock, SECRETS)
    assert answer.json_body["approved"] is True
    event = inbox_repo.find_event(session, "stripe", "evt_test_1_issuing_authorization.request")
    assert event is not None

    for statement, params in [
        (inbox_repo._LOCK_EVENT_ROW, {"id": event.id}),
        (cards_repo._CARD_REF, {"provider": "stripe", "token": card.provider_card_token}),
        (
            card_payments._CARD_AND_DECISION,
            {"card_id": card.id, "source": "stripe", "key": "iauth_stmt"},
        ),
        (card_payments._DECISION_BY_KEY, {"source": "stripe", "key": "iauth_stmt"}),
    ]:
        ours, theirs = _both(session, statement, params)
        assert ours == theirs
        assert len(ours) == 1, statement
    nothing = {"provider": "stripe", "token": "no such card"}
    assert _both(session, cards_repo._CARD_REF, nothing) == ([], [])
    # Typed as SQLAlchemy types them: enums, times with their zone, booleans.
    row = hot_sql.run_first(session, inbox_repo._LOCK_EVENT_ROW, {"id": event.id})
    assert row.status is event.status
    assert row.received_at == event.received_at and row.received_at.tzinfo is not None
    decision = hot_sql.run_first(
        session,
        card_payments._CARD_AND_DECISION,
        {"card_id": card.id, "source": "stripe", "key": "iauth_stmt"},
    )
    assert decision.status is card.status
    assert decision.key_of_a_transfer is True  # the approval's hold has its key


def test_a_refused_write_is_raised_as_sqlalchemy_raises_it(
    session: Session, clock: FixedClock
) -> None:
    _, _, card = factories.budget_with_card(session, clock, loaded=1_000)
    session.flush()
    with pytest.raises(IntegrityError), session.begin_nested():
        # No payment 0: the foreign key refuses the part.
        payments_repo.insert_part(
            session,
            payment_id=0,
            part_key="auth",
            kind="authorisation",
            amount=100,
            occurred_at=clock.now(),
            inbound_event_id=None,
        )
    # The session goes on after the savepoint is rolled back.
    assert cards_repo.card_ref(session, card.provider, card.provider_card_token) is not None
