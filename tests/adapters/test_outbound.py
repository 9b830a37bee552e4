"""Outbound card commands: recorded with their outcome, retried safely."""

from __future__ import annotations

import json
from typing import Any

import pytest
import stripe
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.marqeta import MarqetaCommands
from adapters.models import CardCommandRecord, CommandStatus
from adapters.outbound import OutboundCommands, ProviderReply
from adapters.simulated import SimulatedProvider
from adapters.stripe_issuing import StripeCommands
from ledger.clock import FixedClock
from ledger.errors import IdempotencyConflict, InvalidAmount
from ledger.ports import CardCommand, CardProviderCommands
from tests import factories


def _card(session: Session, clock: FixedClock, provider: str = "simulated") -> int:
    _, _, card = factories.budget_with_card(session, clock)
    card.provider = provider
    session.flush()
    return card.id


def test_a_command_is_recorded_and_a_retry_has_no_second_effect(
    session: Session, clock: FixedClock
) -> None:
    sim = SimulatedProvider(session, clock)
    commands: CardProviderCommands = OutboundCommands(session, clock, {"simulated": sim})
    card_id = _card(session, clock)
    first = commands.send(card_id, CardCommand.SUSPEND, key="suspend-1", reason="officer: review")
    again = commands.send(card_id, CardCommand.SUSPEND, key="suspend-1", reason="officer: review")
    assert first.accepted and again == first
    assert sim.calls == 1
    record = session.execute(select(CardCommandRecord)).scalar_one()
    assert (record.status, record.attempts, record.reason) == (
        CommandStatus.ACCEPTED, 1, "officer: review",
    )  # fmt: skip
    with pytest.raises(IdempotencyConflict):
        commands.send(card_id, CardCommand.CLOSE, key="suspend-1")


def test_a_failed_command_is_retried_under_the_same_key(
    session: Session, clock: FixedClock
) -> None:
    class Flaky:
        provider = "simulated"

        def __init__(self) -> None:
            self.keys: list[str] = []

        def execute(
            self, card_token: str, command: CardCommand, *, key: str, amount: int | None
        ) -> ProviderReply:
            self.keys.append(key)
            if len(self.keys) == 1:
                raise TimeoutError("provider did not answer")
            return ProviderReply(True, False, "done")

    flaky = Flaky()
    commands = OutboundCommands(session, clock, {"simulated": flaky})
    card_id = _card(session, clock)
    failed = commands.send(card_id, CardCommand.LOAD, key="load-7", amount=5_000)
    assert (failed.accepted, failed.retryable) == (False, True)
    assert "TimeoutError" in failed.detail
    (retried,) = commands.retry_unfinished()
    assert retried.accepted and retried.command_id == failed.command_id
    assert flaky.keys == ["load-7", "load-7"]
    assert commands.retry_unfinished() == []


def test_amounts_are_checked(session: Session, clock: FixedClock) -> None:
    commands = OutboundCommands(session, clock, {})
    card_id = _card(session, clock)
    with pytest.raises(InvalidAmount):
        commands.send(card_id, CardCommand.LOAD, key="k1")
    with pytest.raises(InvalidAmount):
        commands.send(card_id, CardCommand.SUSPEND, key="k2", amount=100)
    outcome = commands.send(card_id, CardCommand.SUSPEND, key="k3")
    assert outcome.retryable and "no client" in outcome.detail


def test_a_provider_refusal_is_final(session: Session, clock: FixedClock) -> None:
    sim = SimulatedProvider(session, clock)
    commands = OutboundCommands(session, clock, {"simulated": sim})
    card_id = _card(session, clock)
    assert commands.send(card_id, CardCommand.CLOSE, key="close").accepted
    refused = commands.send(card_id, CardCommand.UNSUSPEND, key="reopen")
    assert (refused.accepted, refused.retryable) == (False, False)
    assert commands.send(card_id, CardCommand.UNSUSPEND, key="reopen") == refused
    assert sim.calls == 2


class _FakeStripeHTTP(stripe.HTTPClient):
    name = "fake"

    def __init__(self, status: int = 200) -> None:
        super().__init__()
        self.status = status
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []

    def request(
        self, method: str, url: str, headers: Any, post_data: Any = None
    ) -> tuple[bytes, int, dict[str, str]]:
        self.requests.append((method, url, dict(headers or {}), post_data))
        if self.status != 200:
            body = {"error": {"type": "invalid_request_error", "message": "No such card"}}
        else:
            body = {"id": url.rsplit("/", 1)[-1], "object": "issuing.card", "status": "inactive"}
        return json.dumps(body).encode(), self.status, {}

    def close(self) -> None:
        pass


def test_stripe_commands_set_the_card_status_with_our_key(
    session: Session, clock: FixedClock
) -> None:
    http = _FakeStripeHTTP()
    client = StripeCommands(
        stripe.StripeClient("sk_test_x", http_client=http, max_network_retries=0)
    )
    commands = OutboundCommands(session, clock, {"stripe": client})
    card_id = _card(session, clock, "stripe")
    outcome = commands.send(card_id, CardCommand.SUSPEND, key="suspend-stripe")
    assert outcome.accepted, outcome.detail
    ((method, url, headers, data),) = http.requests
    assert method == "post" and "/v1/issuing/cards/" in url
    assert "status=inactive" in str(data)
    assert headers.get("Idempotency-Key") == "suspend-stripe"
    assert commands.send(card_id, CardCommand.LOAD, key="load-stripe", amount=100).accepted
    assert len(http.requests) == 1  # a load moves no money at Stripe


def test_stripe_refusal_is_recorded(session: Session, clock: FixedClock) -> None:
    http = _FakeStripeHTTP(status=404)
    client = StripeCommands(
        stripe.StripeClient("sk_test_x", http_client=http, max_network_retries=0)
    )
    commands = OutboundCommands(session, clock, {"stripe": client})
    outcome = commands.send(_card(session, clock, "stripe"), CardCommand.CLOSE, key="close-stripe")
    assert (outcome.accepted, outcome.retryable) == (False, False)
    assert "InvalidRequestError" in outcome.detail


def test_marqeta_commands_are_card_transitions(session: Session, clock: FixedClock) -> None:
    sent: list[tuple[str, str, dict[str, Any]]] = []

    def transport(method: str, path: str, body: Any) -> tuple[int, dict[str, Any]]:
        sent.append((method, path, dict(body)))
        return (201 if len(sent) == 1 else 409), {"state": body["state"]}

    commands = OutboundCommands(session, clock, {"marqeta": MarqetaCommands(transport)})
    card_id = _card(session, clock, "marqeta")
    assert commands.send(card_id, CardCommand.SUSPEND, key="s1").accepted
    ((method, path, body),) = sent
    assert (method, path, body["state"], len(body["token"])) == (
        "POST",
        "/cardtransitions",
        "SUSPENDED",
        36,
    )
    # A repeated transition token is Marqeta saying it was already done.
    assert commands.send(card_id, CardCommand.CLOSE, key="c1").accepted
