"""Reading statement lines: the events they become, and lines that are not lines."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from adapters.canonical import CanonicalEvent, EventKind, event_of
from adapters.statement_lines import MAX_LINE, parse_line, read, row_of


def test_a_line_is_the_event_the_dataclass_would_build() -> None:
    line = "CARD_PAYMENT,cp-1,card_7,2026-04-06T09:14:03+01:00,12.40,GBP,Boots,5912,,,auth_5"
    event = parse_line(f"{line},10.00,EUR".split(","))
    built = CanonicalEvent(
        kind=EventKind.CLEARING,
        event_id="cp-1",
        occurred_at=datetime(2026, 4, 6, 8, 14, 3, tzinfo=UTC),
        card_token="card_7",
        amount=1_240,
        merchant_amount=1_000,
        merchant_currency="EUR",
        payment_id="auth_5",
        merchant_name="Boots",
        mcc="5912",
    )
    assert event == built and hash(event) == hash(built)
    assert isinstance(event, CanonicalEvent)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.amount = 1  # type: ignore[misc]


def test_an_event_names_every_field_once() -> None:
    values = dataclasses.asdict(
        CanonicalEvent(EventKind.FEE, "f-1", datetime(2026, 4, 6, tzinfo=UTC), "card_7", 100)
    )
    assert event_of(dict(values)).amount == 100
    del values["increment"]
    with pytest.raises(TypeError, match="increment"):
        event_of(values)
    with pytest.raises(TypeError, match="colour"):
        event_of({**values, "increment": False, "colour": "red"})


def test_a_line_too_long_to_be_one_is_refused_whole() -> None:
    text = "FEE,f-1,card_7,2026-04-06T09:00:00Z,1.00,GBP,,,,," + "x" * MAX_LINE + ",,"
    assert read(row_of(2, text)) == f"the line is longer than {MAX_LINE:,} characters"
    # Kept one character too long, it reads the same again.
    assert read(row_of(2, text[: MAX_LINE + 1])) == read(row_of(2, text))
