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
