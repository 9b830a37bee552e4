"""The GOV.UK Frontend widgets the portal uses, rendered through govuk-frontend-wtf and
govuk-frontend-jinja (checks that the versions work together): labels tied to inputs,
hints, error messages and the error summary, the password input, the date input and the
button, each with the classes GOV.UK Frontend 5 styles."""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree.ElementTree import Element

import html5lib
import pytest
from flask import Flask, render_template_string
from sqlalchemy import Engine
from werkzeug.datastructures import MultiDict

from ledger.db import make_session_factory
from portal.app import create_app
from portal.auth.forms import ResetPasswordForm, SignInForm
from portal.config import TestConfig as PortalTestConfig
from portal.holder.forms import PaymentSearchForm


@pytest.fixture(scope="module")
def app(engine: Engine) -> Iterator[Flask]:
    yield create_app(PortalTestConfig(), sessions=make_session_factory(engine))


def fragment(html: str) -> Element:
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    element: Element = parser.parseFragment(html)
    return element


def by_class(root: Element, name: str) -> list[Element]:
    return [e for e in root.iter() if name in (e.get("class") or "").split()]


def test_text_input_with_label_hint_and_error(app: Flask) -> None:
    with app.test_request_context("/sign-in", method="POST", data={"email": "", "password": ""}):
        form = SignInForm(meta={"csrf": False})
        assert not form.validate()
        html = render_template_string(
            "{{ form.email(params={'type': 'email', 'autocomplete': 'email'}) }}", form=form
        )
    root = fragment(html)
    (group,) = by_class(root, "govuk-form-group--error")
    (label,) = by_class(group, "govuk-label")
    (field,) = by_class(group, "govuk-input")
    assert label.get("for") == field.get("id") == "email"
    assert field.get("type") == "email" and field.get("autocomplete") == "email"
    assert "govuk-input--error" in (field.get("class") or "")
    (message,) = by_class(group, "govuk-error-message")
    assert "Enter your email address" in "".join(message.itertext())
    assert field.get("aria-describedby") == message.get("id")


def test_password_input_component(app: Flask) -> None:
    with app.test_request_context("/"):
        form = ResetPasswordForm(meta={"csrf": False})
        html = render_template_string(
            "{{ form.password(params={'autocomplete': 'new-password'}) }}", form=form
        )
    root = fragment(html)
    (wrapper,) = by_class(root, "govuk-password-input")
    assert wrapper.get("data-module") == "govuk-password-input"
    (field,) = by_class(root, "govuk-password-input__input")
    assert field.get("type") == "password"
    assert field.get("autocomplete") == "new-password"
    (hint,) = by_class(root, "govuk-hint")
    assert "At least 12 characters" in "".join(hint.itertext())
    # The show/hide button needs JavaScript, so it starts hidden.
    (toggle,) = by_class(root, "govuk-password-input__toggle")
    assert toggle.get("hidden") is not None


def test_date_input_redisplays_what_was_typed_with_the_error(app: Flask) -> None:
    args = MultiDict([("date_from", "31"), ("date_from", "2"), ("date_from", "2026")])
    with app.test_request_context("/"):
        form = PaymentSearchForm(formdata=args)
        assert not form.validate()
        html = render_template_string("{{ form.date_from() }}", form=form)
        summary = render_template_string(
            "{% from 'govuk_frontend_jinja/components/error-summary/macro.html' "
            "import govukErrorSummary %}{{ govukErrorSummary(wtforms_errors(form)) }}",
            form=form,
        )
    root = fragment(html)
    (fieldset,) = by_class(root, "govuk-fieldset")
    assert "From" in "".join(by_class(fieldset, "govuk-fieldset__legend")[0].itertext())
    inputs = by_class(root, "govuk-date-input__input")
    assert [i.get("id") for i in inputs] == ["date_from-day", "date_from-month", "date_from-year"]
    assert [i.get("value") for i in inputs] == ["31", "2", "2026"]
    assert all(i.get("name") == "date_from" for i in inputs)
    assert all(i.get("inputmode") == "numeric" for i in inputs)
    labels = [
        ("".join(lab.itertext())).strip() for lab in by_class(root, "govuk-date-input__label")
    ]
    assert labels == ["Day", "Month", "Year"]
    (message,) = by_class(root, "govuk-error-message")
    assert "From must be a real date" in "".join(message.itertext())
    summary_root = fragment(summary)
    (box,) = by_class(summary_root, "govuk-error-summary")
    assert box.get("data-module") == "govuk-error-summary"
    (link,) = box.iter("a")
    assert link.get("href") == "#date_from"
    assert "From must be a real date" in "".join(link.itertext())


def test_button(app: Flask) -> None:
    with app.test_request_context("/"):
        form = SignInForm(meta={"csrf": False})
        html = render_template_string("{{ form.submit }}", form=form)
    root = fragment(html)
    (button,) = by_class(root, "govuk-button")
    assert button.tag == "button" and button.get("type") == "submit"
    assert button.get("data-module") == "govuk-button"
    assert "".join(button.itertext()).strip() == "Sign in"


def test_the_frontend_assets_are_served_by_the_app(app: Flask) -> None:
    from pathlib import Path

    built = Path(app.static_folder or "") / "govuk" / "application.css"
    if not built.exists():
        pytest.skip("GOV.UK Frontend is not built: run `make frontend` (make test does)")
    client = app.test_client()
    css = client.get("/static/govuk/application.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    text = css.get_data(as_text=True)
    assert "font-family:arial,sans-serif" in text  # the council's font, not GDS Transport
    assert "GDS Transport" not in text
    js = client.get("/static/govuk/govuk-frontend.min.js")
    assert js.status_code == 200
    assert client.get("/static/app.js").status_code == 200
