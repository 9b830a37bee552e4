"""``GET /api/cards/{id}/balance`` and ``…/transactions`` (keyset pages)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from ledger.card_payments import CardPayments
from tests.api.api_support import Api, problem_of


def _spend(api: Api, card_id: int, n: int) -> None:
    """``n`` settled card payments of £1, £2, … (a hold, then its settlement)."""
    with api.sessions() as session:
        payments = CardPayments(session, api.clock)
        for i in range(1, n + 1):
            auth = payments.authorise(card_id, i * 100, source="test", key=f"auth-{card_id}-{i}")
            assert auth.hold_id is not None
            payments.post_hold(auth.hold_id, i * 100, source="test", key=f"clear-{card_id}-{i}")
        session.commit()


def test_balance_of_a_card(api: Api) -> None:
    card = api.card("ukbank", loaded=12_345)
    with api.sessions() as session:
        CardPayments(session, api.clock).authorise(card.id, 345, source="test", key="hold-b")
        session.commit()
    response = api.call("GET", f"/api/cards/{card.id}/balance")
    assert response.get_json() == {
        "card_id": card.id,
        "kind": "primary",
        "status": "active",
        "last4": "1234",
        "account_id": card.account_id,
        "currency": "GBP",
        "posted": "123.45",
        "available": "120.00",
        "pending_debits": "3.45",
        "pending_credits": "0.00",
    }


def test_an_unknown_card_is_404(api: Api) -> None:
    problem_of(api.call("GET", "/api/cards/987654/balance"), 404, "not_found")
    problem_of(api.call("GET", "/api/cards/987654/transactions"), 404, "not_found")


def test_transactions_in_keyset_pages(api: Api) -> None:
    card = api.card("ukbank", loaded=100_000)
    _spend(api, card.id, 3)
    other = api.card("ukbank", loaded=5_000)  # another card's money never shows
    _spend(api, other.id, 1)

    seen: list[dict] = []
    path: str | None = f"/api/cards/{card.id}/transactions?limit=2"
    pages = 0
    while path is not None:
        page = api.call("GET", path).get_json()
        assert len(page["transactions"]) <= 2
        seen += page["transactions"]
        path = page["next"]
        pages += 1
        if path is not None:
            query = parse_qs(urlsplit(path).query)
            assert query["after"] == [str(page["transactions"][-1]["id"])]
            assert query["limit"] == ["2"]
    ids = [t["id"] for t in seen]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # The load, then three holds each with its settlement.
    assert [(t["code"], t["phase"], t["direction"], t["amount"]) for t in seen] == [
        ("load", "posted", "in", "1000.00"),
        ("card_spend", "pending", "out", "1.00"),
        ("card_spend", "post_pending", "out", "1.00"),
        ("card_spend", "pending", "out", "2.00"),
        ("card_spend", "post_pending", "out", "2.00"),
        ("card_spend", "pending", "out", "3.00"),
        ("card_spend", "post_pending", "out", "3.00"),
    ]
    assert pages == 4
    assert all(t["card_id"] in (card.id, None) for t in seen)
    rest = api.call("GET", f"/api/cards/{card.id}/transactions?after={ids[-1]}").get_json()
    assert rest == {"transactions": [], "next": None}


def test_bad_paging_arguments_are_422_per_field(api: Api) -> None:
    card = api.card("ukbank")
    for query, name in (("limit=0", "limit"), ("limit=201", "limit"), ("after=-1", "after"),
                        ("after=x", "after"), ("colour=blue", "colour")):  # fmt: skip
        response = api.call("GET", f"/api/cards/{card.id}/transactions?{query}")
        assert name in problem_of(response, 422, "validation_failed")["errors"]["query"]


def test_a_foreign_payment_shows_what_the_merchant_charged(api: Api) -> None:
    """Billed in pounds, charged in euros: the euro figure is kept for display (the
    clearing's replacing the authorisation's), on the payment's transfers only."""
    card = api.card("ukbank", loaded=50_000)
    token = card.provider_card_token

    def event(kind: str, name: str, amount: str, **extra: str) -> dict[str, str]:
        return {"kind": kind, "event_id": name, "occurred_at": "2026-04-20T09:00:00+00:00",
                "card": token, "amount": amount, "payment_id": "eu-1", **extra}  # fmt: skip

    events = [
        event("authorisation_advice", "eu-1", "72.50", merchant_amount="85.00",
              merchant_currency="EUR", merchant_name="Hôtel du Parc", mcc="7011"),
        event("clearing", "eu-1-c", "73.40", merchant_amount="86.10", merchant_currency="EUR"),
        event("refund", "eu-1-r", "10.00", merchant_amount="11.73", merchant_currency="EUR"),
    ]  # fmt: skip
    posted = api.call("POST", "/api/events", body={"events": events}).get_json()
    assert [r["status"] for r in posted["results"]] == ["applied"] * 3
    page = api.call("GET", f"/api/cards/{card.id}/transactions").get_json()
    shown = [
        (t["code"], t["phase"], t["amount"], t["merchant_amount"], t["merchant_currency"])
        for t in page["transactions"]
    ]
    assert shown == [
        ("load", "posted", "500.00", None, None),
        ("card_spend", "pending", "72.50", "86.10", "EUR"),
        ("card_spend", "post_pending", "72.50", "86.10", "EUR"),
        ("card_spend", "posted", "0.90", "86.10", "EUR"),
        ("refund", "posted", "10.00", None, None),
    ]
