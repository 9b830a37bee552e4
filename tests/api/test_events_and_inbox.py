"""``POST /api/events``, parked events and replay, and the problem JSON every error gets."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from adapters import api_events
from adapters.models import InboundEvent
from ledger.enrolment import Enrolment
from ledger.models import Account, Card, CardKind, Person
from ledger.service import Ledger
from tests.api.api_support import Api, problem_of


def _event(kind: str, event_id: str, card: str, amount: str = "12.00", **more: Any) -> dict:
    return {
        "kind": kind,
        "event_id": event_id,
        "occurred_at": "2026-04-20T09:30:00+00:00",
        "card": card,
        "amount": amount,
        **more,
    }


def _inbox_count(api: Api) -> int:
    with api.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(InboundEvent)) or 0)


def test_an_authorisation_request_is_decided_and_held(api: Api) -> None:
    card = api.card("ukbank", loaded=5_000)
    token = card.provider_card_token
    body = {
        "events": [
            _event("authorisation_request", "a1", token, "20.00", payment_id="a1", mcc="5411"),
            _event("authorisation_request", "a2", token, "40.00", payment_id="a2"),
            _event("clearing", "c1", token, "19.50", payment_id="a1"),
        ]
    }
    response = api.call("POST", "/api/events", body=body, token=api.token(("events:write",)))
    assert response.status_code == 200
    first, second, third = response.get_json()["results"]
    assert (first["approved"], first["status"], first["event"]) == (
        True,
        "applied",
        "authorisation_request:a1",
    )
    assert (second["approved"], second["decline_reason"]) == (False, "insufficient_funds")
    assert third["status"] == "applied"
    with api.sessions() as session:
        balances = Ledger(session, api.clock).balances(card.account_id)
    assert (balances.posted, balances.available) == (5_000 - 1_950, 5_000 - 1_950)


def test_invalid_events_are_422_per_field_and_change_nothing(api: Api) -> None:
    card = api.card("ukbank")
    body = {
        "events": [
            _event("fee", "f1", card.provider_card_token, "1.25"),
            _event("fee", "f2", card.provider_card_token, "1.255", colour="blue"),
        ]
    }
    response = api.call("POST", "/api/events", body=body)
    problem = problem_of(response, 422, "validation_failed")
    errors = problem["errors"]["json"]["events"]["1"]
    assert "amount" in errors and "colour" in errors
    assert _inbox_count(api) == 0
    empty = api.call("POST", "/api/events", body={"events": []})
    assert "events" in problem_of(empty, 422, "validation_failed")["errors"]["json"]
    unknown = api.call("POST", "/api/events", body={"events": [], "extra": 1})
    assert "extra" in problem_of(unknown, 422, "validation_failed")["errors"]["json"]


def test_float_amounts_are_refused(api: Api) -> None:
    card = api.card("ukbank")
    body = (
        b'{"events": [{"kind": "fee", "event_id": "f9", "card": "%s", "amount": 1.1e0, '
        % (card.provider_card_token.encode())
        + b'"occurred_at": "2026-04-20T09:30:00+00:00"}]}'
    )
    response = api.call("POST", "/api/events", data=body)
    # JSON numbers are read as exact decimals: 1.1 pounds is 110 pence, accepted.
    assert response.status_code == 200, response.get_data(as_text=True)
    body = body.replace(b"1.1e0", b"1.105")
    problem_of(api.call("POST", "/api/events", data=body), 422, "validation_failed")


def test_a_body_that_is_not_json_is_415_or_400(api: Api) -> None:
    response = api.call("POST", "/api/events", data=b"kind=fee", content_type="text/plain")
    problem_of(response, 415, "unsupported_media_type")
    response = api.call("POST", "/api/events", data=b"{not json", content_type="application/json")
    problem_of(response, 400, "bad_request")


def test_parked_events_are_listed_and_replayed_after_the_fix(api: Api) -> None:
    for n in range(3):
        body = {"events": [_event("fee", f"p{n}", "card-later", "1.00")]}
        results = api.call("POST", "/api/events", body=body).get_json()["results"]
        assert results[0]["status"] == "parked"
    first = api.call("GET", "/api/inbox/parked?limit=2")
    page = first.get_json()
    assert [e["provider_event_id"] for e in page["events"]] == ["fee:p2", "fee:p1"]
    assert page["events"][0]["reason"].startswith("unknown_card")
    second = api.call("GET", page["next"]).get_json()
    assert [e["provider_event_id"] for e in second["events"]] == ["fee:p0"]
    assert second["next"] is None

    card = api.card("ukbank", loaded=1_000)
    with api.sessions() as session:  # the fix: the card is enrolled
        first = session.get(Card, card.id)
        assert first is not None
        holder, budget = (
            session.get(Person, first.holder_id),
            session.get(Account, first.account_id),
        )
        assert holder is not None and budget is not None
        Enrolment(session, api.clock).issue_card(
            holder, kind=CardKind.PRIMARY, provider="ukbank", provider_card_token="card-later",
            last4="4321", budget=budget,
        )  # fmt: skip
        session.commit()
    event_id = page["events"][0]["id"]
    replayed = api.call("POST", f"/api/inbox/{event_id}/replay", token=api.token(("inbox:replay",)))
    assert replayed.status_code == 200
    assert replayed.get_json()["status"] == "applied"
    assert replayed.get_json()["attempts"] == 2
    remaining = api.call("GET", "/api/inbox/parked").get_json()["events"]
    assert [e["provider_event_id"] for e in remaining] == ["fee:p1", "fee:p0"]


def test_replaying_an_unknown_event_is_404(api: Api) -> None:
    problem_of(api.call("POST", "/api/inbox/999999/replay"), 404, "not_found")


def test_unknown_paths_and_methods_get_problem_json(api: Api) -> None:
    problem_of(api.call("GET", "/api/nothing-here"), 404, "not_found")
    problem_of(api.call("GET", "/api/cards/abc/balance"), 404, "not_found")
    response = api.call("DELETE", "/api/events")
    problem_of(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_unexpected_errors_are_500_without_internals(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("connection string postgres://secret@db")

    monkeypatch.setattr(api_events, "handle_events", explode)
    card = api.card("ukbank")
    body = {"events": [_event("fee", "boom", card.provider_card_token)]}
    response = api.call("POST", "/api/events", body=body)
    problem = problem_of(response, 500, "internal_error")
    assert "secret" not in response.get_data(as_text=True)
    assert "RuntimeError" not in problem["detail"]


def test_the_api_needs_no_csrf_token(api: Api) -> None:
    """The app protects its forms with CSRF tokens; the API (no browser sessions) is
    exempt, so a POST without one is judged on its token alone."""
    assert api.app.config.get("WTF_CSRF_ENABLED", True)
    card = api.card("ukbank")
    body = {"events": [_event("fee", "nocsrf", card.provider_card_token, "1.00")]}
    assert api.call("POST", "/api/events", body=body).status_code == 200


def test_amounts_not_plainly_written_or_too_large_are_422(api: Api) -> None:
    """Before, "£1,234.50" was taken, and an amount beyond the ledger's 64-bit columns was
    stored and then failed with a 500."""
    card = api.card("ukbank")
    for amount in ('"£1,234.50"', '"99999999999999999999.99"', "1E+30", '"1000000000.01"'):
        event = (
            f'{{"kind": "load", "event_id": "big", "card": "{card.provider_card_token}", '
            f'"amount": {amount}, "occurred_at": "2026-04-20T09:30:00+00:00"}}'
        )
        body = f'{{"events": [{event}]}}'.encode()
        problem = problem_of(api.call("POST", "/api/events", data=body), 422, "validation_failed")
        assert problem["errors"]["json"]["events"]["0"], amount
    assert _inbox_count(api) == 0
