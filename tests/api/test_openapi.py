"""The OpenAPI document: served, checked in without drift, shown as a page, and every
documented operation answers as documented (the contract tour)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from portal.cli import main
from portal.security import CONTENT_SECURITY_POLICY
from tests.adapters.stripe_support import StripeSender
from tests.api.api_support import Api
from tests.portal.portal_support import parse_page, text_of

METHODS = ("get", "post", "put", "patch", "delete")
CHECKED_IN = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_the_document_is_served(api: Api) -> None:
    response = api.app.test_client().get("/api/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    served = response.get_json()
    assert served["openapi"].startswith("3.1")
    assert served == api.document


def test_the_checked_in_document_has_not_drifted(api: Api) -> None:
    """docs/openapi.json is what the app serves. If this fails, regenerate it:
    ``dpledger api spec -o docs/openapi.json`` (and review the diff)."""
    assert json.loads(CHECKED_IN.read_text()) == api.document, (
        "docs/openapi.json is out of date: run `dpledger api spec -o docs/openapi.json`"
    )


def test_the_spec_command_prints_the_same_document(api: Api) -> None:
    result = CliRunner().invoke(main, ["api", "spec"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == api.document
    assert "docs/openapi.json" in CliRunner().invoke(main, ["api", "spec", "--help"]).output


def test_every_operation_says_how_it_is_authenticated(api: Api) -> None:
    for path, item in api.document["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            (requirement,) = operation["security"]
            (scheme, scopes), *_ = requirement.items()
            if path.startswith("/api/webhooks/"):
                assert scheme in ("stripeSignature", "marqetaBasicAuth"), path
            else:
                assert scheme == "clientToken" and len(scopes) == 1, (method, path)
            assert operation["summary"], (method, path)


def test_errors_are_documented_as_problem_json(api: Api) -> None:
    responses = api.document["components"]["responses"]
    for name in ("UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "UNPROCESSABLE_ENTITY"):
        assert list(responses[name]["content"]) == ["application/problem+json"]


def test_the_docs_page_lists_every_operation_with_no_script(api: Api) -> None:
    response = api.app.test_client().get("/api/docs")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    document = parse_page(response)
    text = text_of(document)
    for path, item in api.document["paths"].items():
        for method in set(item) & set(METHODS):
            assert f"{method.upper()} {path}" in text
    assert document.find(".//script") is None or all(
        script.get("src") and not (script.text or "").strip() for script in document.iter("script")
    )
    assert document.find(".//a[@href='/api/openapi.json']") is not None


def test_contract_tour_every_operation_answers_as_documented(api: Api) -> None:
    """One call to every documented operation, each response checked against the
    document by ``Api.call`` (as every call in these tests is)."""
    card = api.card("ukbank")
    stripe_card = api.card("stripe")
    sender = StripeSender(api.clock, stripe_card.provider_card_token)
    stripe_body = sender.envelope(
        "issuing_authorization.request", sender.authorization("iauth_tour", pending=100)
    )
    event = {
        "kind": "fee",
        "event_id": "tour",
        "occurred_at": "2026-04-20T09:00:00+00:00",
        "card": "not-yet",
        "amount": "1.00",
    }
    results = api.call("POST", "/api/events", body={"events": [event]}).get_json()["results"]
    calls = [
        ("POST", "/api/webhooks/stripe", stripe_body, sender.headers(stripe_body)),
        ("POST", "/api/webhooks/marqeta", b"{}", {"Authorization": "Basic eDp5"}),
        ("POST", "/api/webhooks/marqeta/gateway", b"{}", {}),
        ("GET", f"/api/cards/{card.id}/balance", None, {}),
        ("GET", f"/api/cards/{card.id}/transactions", None, {}),
        ("GET", "/api/inbox/parked", None, {}),
        ("POST", f"/api/inbox/{results[0]['inbox_id']}/replay", None, {}),
    ]
    for method, path, data, headers in calls:
        token = None if path.startswith("/api/webhooks/") else "default"
        response = api.call(method, path, data=data, headers=headers, token=token)
        assert response.status_code < 500, (path, response.get_data(as_text=True))
    called = {(m, p) for m, p, _ in api.checked}
    for path, item in api.document["paths"].items():
        for method in set(item) & set(METHODS):
            template = path.replace("{card_id}", str(card.id))
            template = template.replace("{event_id}", str(results[0]["inbox_id"]))
            assert (method.upper(), template) in called, (method, path)
