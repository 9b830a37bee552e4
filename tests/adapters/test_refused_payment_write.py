"""A card payment's first event whose ledger write the database refuses: the delivery rolls
back its apply (no savepoint on the real-time path) and applies the event again in a
savepoint, which parks it as ``ledger_write_failed``, a transient cause the scheduler
tries again. The payment row the refused apply inserted is gone, and the session must not
keep it: SQLite gives the next insert the same id."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from adapters import inbox, stripe_issuing
from adapters.models import CardPayment, CardPaymentHold, InboundEvent, InboxStatus
from ledger.clock import FixedClock
from ledger.models import Authorisation
from ledger.service import Ledger
from tests import factories
from tests.adapters.stripe_support import SECRETS, StripeSender
from tests.adapters.test_inbox_transient import _ALLOW, _REFUSE, _run

LOADED = 5_000


def _setup(session: Session, clock: FixedClock) -> tuple[int, StripeSender]:
    _, budget, card = factories.budget_with_card(session, clock, loaded=LOADED)
    card.provider, card.provider_card_token = "stripe", f"ic_refused_{card.id}"
    session.commit()
    return budget.id, StripeSender(clock, card.provider_card_token)


def _event(session: Session, provider_event_id: str) -> InboundEvent:
    return session.execute(
        select(InboundEvent)
        .where(InboundEvent.provider_event_id == provider_event_id)
        .execution_options(populate_existing=True)
    ).scalar_one()


def _count(session: Session, model: type) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_request_whose_hold_the_database_refused_is_declined_and_parked_as_transient(
    session: Session, clock: FixedClock
) -> None:
    budget_id, sender = _setup(session, clock)
    _run(session, _REFUSE)
    body = sender.envelope(
        "issuing_authorization.request",
        sender.authorization("iauth_refused", pending=300),
        "evt_refused",
    )

    response = stripe_issuing.handle_webhook(session, body, sender.headers(body), clock, SECRETS)

    assert response.json_body == {
        "approved": False,
        "metadata": {"decline_reason": "ledger_write_failed"},
    }
    parked = _event(session, "evt_refused")
    assert parked.status is InboxStatus.PARKED and parked.attempts == 1
    assert (parked.reason or "").startswith("ledger_write_failed: ")
    assert inbox.is_transient(parked.reason)
    # Nothing of it stays: no payment, no decision, no hold.
    assert _count(session, CardPayment) == 0
    assert _count(session, Authorisation) == 0
    assert Ledger(session, clock).balances(budget_id).available == LOADED


def test_a_settlement_that_opens_its_payment_is_parked_then_applied_once_by_the_job(
    session: Session, clock: FixedClock
) -> None:
    """A capture arriving before its authorisation opens the payment (a force post): the
    refused write parks it, the inbox_replay job applies it once the cause has passed."""
    budget_id, sender = _setup(session, clock)
    _run(session, _REFUSE)
    body = sender.envelope(
        "issuing_transaction.created",
        sender.transaction("ipi_refused", "iauth_late", -700),
        "evt_capture",
    )

    response = stripe_issuing.handle_webhook(session, body, sender.headers(body), clock, SECRETS)

    assert response.status == 200 and response.json_body["status"] == "parked"
    parked = _event(session, "evt_capture")
    assert (parked.reason or "").startswith("ledger_write_failed: ")
    assert _count(session, CardPayment) == 0

    _run(session, _ALLOW)
    clock.advance(seconds=3)
    assert inbox.replay_unapplied(session, clock).outcomes == {InboxStatus.APPLIED: 1}
    assert inbox.replay_unapplied(session, clock).total == 0
    assert _event(session, "evt_capture").status is InboxStatus.APPLIED
    assert _count(session, CardPayment) == 1
    assert _count(session, CardPaymentHold) == 0
    assert Ledger(session, clock).balances(budget_id).posted == LOADED - 700
