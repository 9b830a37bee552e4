"""A client sees only its own provider's cards and inbox, and posts canonical events about
a signing provider's cards (stripe, marqeta) only with the explicit ``events:unsigned``."""

from __future__ import annotations

from sqlalchemy import select

from ledger.card_payments import CardPayments
from portal.api import tokens
from portal.api.clients import register_client
from portal.models import ApiClient
from tests.api.api_support import AUDIENCE, Api, problem_of


def _client(api: Api, name: str, provider: str, scopes: tuple[str, ...]) -> str:
    """A token of a further client, registered for ``provider``."""
    with api.sessions() as session:
        made = register_client(session, api.clock, name=name, scopes=scopes, provider=provider)
        session.commit()
        assert made.private_key_pem is not None
        return tokens.mint(
            made.private_key_pem, client_id=made.client.client_id, audience=AUDIENCE,
            scopes=scopes, issued_at=api.clock.now().timestamp(),
        )  # fmt: skip


def _fee(card_token: str, event_id: str) -> dict[str, str]:
    return {"kind": "fee", "event_id": event_id, "card": card_token, "amount": "1.00",
            "occurred_at": "2026-04-20T09:30:00+00:00"}  # fmt: skip


def test_another_providers_card_is_not_found(api: Api) -> None:
    mine = api.card("ukbank", loaded=2_000)
    theirs = api.card("stripe", loaded=2_000)
    with api.sessions() as session:
        CardPayments(session, api.clock).authorise(theirs.id, 500, source="t", key="their-hold")
        session.commit()
    for what in ("balance", "transactions"):
        assert api.call("GET", f"/api/cards/{mine.id}/{what}").status_code == 200
        problem_of(api.call("GET", f"/api/cards/{theirs.id}/{what}"), 404, "not_found")


def test_another_providers_inbox_is_not_listed_nor_replayed(api: Api) -> None:
    stripe_token = _client(api, "stripe reader", "stripe", ("inbox:read", "inbox:replay"))
    ours = api.call("POST", "/api/events", body={"events": [_fee("not-yet", "uk-parked")]})
    (parked,) = ours.get_json()["results"]
    assert parked["status"] == "parked"
    listed = api.call("GET", "/api/inbox/parked", token=stripe_token).get_json()
    assert listed == {"events": [], "next": None}
    theirs = api.call("GET", "/api/inbox/parked?provider=ukbank", token=stripe_token).get_json()
    assert theirs["events"] == []
    own = api.call("GET", "/api/inbox/parked?provider=ukbank").get_json()["events"]
    assert [e["provider_event_id"] for e in own] == ["fee:uk-parked"]
    replay = api.call("POST", f"/api/inbox/{parked['inbox_id']}/replay", token=stripe_token)
    problem_of(replay, 404, "not_found")


def test_events_about_a_signing_providers_cards_need_the_explicit_permission(
    api: Api,
) -> None:
    card = api.card("stripe", loaded=2_000)
    # A client registered before the rule (its provider stripe, no events:unsigned).
    legacy = _client(api, "old stripe bridge", "ukbank", ("events:write",))
    with api.sessions() as session:
        row = session.execute(
            select(ApiClient).where(ApiClient.name == "old stripe bridge")
        ).scalar_one()
        row.provider = "stripe"
        session.commit()
    body = {"events": [_fee(card.provider_card_token, "unsigned-1")]}
    refused = api.call("POST", "/api/events", body=body, token=legacy)
    assert "events:unsigned" in problem_of(refused, 403, "unsigned_events_refused")["detail"]
    trusted = _client(api, "trusted stripe bridge", "stripe", ("events:write", "events:unsigned"))
    accepted = api.call("POST", "/api/events", body=body, token=trusted)
    assert accepted.get_json()["results"][0]["status"] == "applied"
