"""Money at the edge: pounds parsed exactly into pence, pence shown as £1,234.56."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import InvalidAmount
from ledger.money import format_pence, parse_pounds


@pytest.mark.parametrize(
    ("given_text", "pence"),
    [
        ("12.34", 1234),
        ("0.01", 1),
        ("0.10", 10),
        ("0.1", 10),
        ("12", 1200),
        ("12.", 1200),
        (".50", 50),
        ("1.000", 100),  # trailing zeros are not a fraction of a penny
        ("£1,234.5", 123450),
        ("1,234,567.89", 123456789),
        ("  £7.05  ", 705),
        ("-12.34", -1234),
        ("-£12.00", -1200),
        ("£-12.00", -1200),
        ("+3", 300),
        ("0", 0),
        # Exact where a float is not: 0.29 * 100 is 28.999999999999996 in binary floating point.
        ("0.29", 29),
        ("1.15", 115),
        ("92233720368547758.07", 9223372036854775807),
    ],
)
def test_text_is_parsed_exactly(given_text: str, pence: int) -> None:
    assert parse_pounds(given_text) == pence


@pytest.mark.parametrize(
    ("value", "pence"),
    [(Decimal("12.34"), 1234), (Decimal("1E+2"), 10000), (Decimal("-0.05"), -5), (7, 700)],
)
def test_decimals_and_whole_pounds_are_parsed_exactly(value: Decimal | int, pence: int) -> None:
    assert parse_pounds(value) == pence


@pytest.mark.parametrize("sub_penny", ["0.001", "1.005", "£1,234.567", "-0.009", "0.0000001"])
def test_a_fraction_of_a_penny_is_refused(sub_penny: str) -> None:
    with pytest.raises(InvalidAmount, match="fraction of a penny"):
        parse_pounds(sub_penny)
    with pytest.raises(InvalidAmount, match="fraction of a penny"):
        parse_pounds(Decimal(sub_penny.replace("£", "").replace(",", "")))


@pytest.mark.parametrize("value", [0.29, 12.0, 1e2, True, False])
def test_floats_and_booleans_are_refused(value: object) -> None:
    with pytest.raises(InvalidAmount):
        parse_pounds(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "£",
        "-",
        ".",
        "abc",
        "12.34p",
        "NaN",
        "Infinity",
        "-inf",
        "1e3",  # exponents are for machines, not for amounts of money
        "1,50",  # a decimal comma would otherwise read as £150
        "12,34.50",
        "1,2345",
        "1£2",
        "£12£",
        "--1",
        "-£-1",
        "1 000",
        "\u0661\u0662",  # Arabic-Indic digits: Decimal would take them
        "0x10",
    ],
)
def test_text_that_is_not_plainly_an_amount_is_refused(text: str) -> None:
    with pytest.raises(InvalidAmount, match="not an amount of money"):
        parse_pounds(text)


def test_a_refusal_has_the_stable_machine_name() -> None:
    with pytest.raises(InvalidAmount) as error:
        parse_pounds("1,50")
    assert error.value.code == "invalid_amount"


@pytest.mark.parametrize(
    ("pence", "shown"),
    [
        (0, "£0.00"),
        (1, "£0.01"),
        (10, "£0.10"),
        (99, "£0.99"),
        (100, "£1.00"),
        (123456, "£1,234.56"),
        (100000, "£1,000.00"),
        (99999999, "£999,999.99"),
        (123456789, "£1,234,567.89"),
        (-1, "-£0.01"),
        (-1200, "-£12.00"),
        (-123456789, "-£1,234,567.89"),
    ],
)
def test_pence_are_shown_as_pounds(pence: int, shown: str) -> None:
    assert format_pence(pence) == shown


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_what_is_shown_parses_back_to_the_same_pence(pence: int) -> None:
    assert parse_pounds(format_pence(pence)) == pence


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=99))
def test_plain_decimal_text_parses_to_pence(pounds: int, pennies: int) -> None:
    assert parse_pounds(f"{pounds}.{pennies:02d}") == pounds * 100 + pennies
    assert parse_pounds(f"£{pounds:,}.{pennies:02d}") == pounds * 100 + pennies
