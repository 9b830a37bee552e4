"""Reading the UK daily statement file (``docs/statement-format.md``): its lines as
canonical events and closing balances, or why a line is not one.

Nothing here touches the database: a line reads the same whenever it is read, so a
quarantined line tried again later (``adapters.statement_quarantine``) is read exactly as
the import read it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO, NamedTuple

from adapters import keys
from adapters.canonical import CanonicalEvent, EventKind, check_event, event_of
from ledger.errors import InvalidAmount
from ledger.money import parse_pounds

COLUMNS = (
    "record_type",
    "transaction_id",
    "card_token",
    "date_time",
    "amount",
    "currency",
    "merchant_name",
    "mcc",
    "counterparty",
    "reference",
    "authorisation_id",
    "merchant_amount",
    "merchant_currency",
)
HEADER = ",".join(COLUMNS)

RECORD_KINDS: dict[str, EventKind] = {
    "CARD_PAYMENT": EventKind.CLEARING,
    "CASH_WITHDRAWAL": EventKind.CLEARING,
    "REFUND": EventKind.REFUND,
    "DIRECT_DEBIT": EventKind.DIRECT_DEBIT,
    "STANDING_ORDER": EventKind.STANDING_ORDER,
    "FASTER_PAYMENT_OUT": EventKind.FASTER_PAYMENT,
    "LOAD": EventKind.LOAD,
    "CONTRIBUTION": EventKind.CONTRIBUTION,
    "FEE": EventKind.FEE,
    "UNLOAD": EventKind.UNLOAD,
}
CLOSING_BALANCE = "CLOSING_BALANCE"
# A longer line is not a statement line (thirteen short fields): it is quarantined whole,
# never cut, so that the quarantine always holds the line as it was.
MAX_LINE = 10_000
NOT_UTF8 = "the line is not UTF-8"
_PROGRESS_STEP = 1 << 16  # bytes read between progress reports


class BadLine(ValueError):
    """A line that is not a statement line; the message says why."""


@dataclass(frozen=True)
class ClosingBalance:
    card_token: str
    as_of: date
    balance: int


Line = CanonicalEvent | ClosingBalance


def parse_line(fields: list[str]) -> Line:
    """One CSV record as an event or a closing balance. Raises ``BadLine``."""
    if len(fields) != len(COLUMNS):
        raise BadLine(f"expected {len(COLUMNS)} fields, found {len(fields)}")
    (
        record_type, transaction_id, card_token, date_time, amount, currency, merchant_name,
        mcc, counterparty, reference, authorisation_id, merchant_amount, merchant_currency,
    ) = map(str.strip, fields)  # fmt: skip
    if not card_token:
        raise BadLine("card_token is empty")
    if currency != "GBP":
        raise BadLine(f"currency {currency!r}: statement amounts are GBP")
    if record_type == CLOSING_BALANCE:
        try:
            as_of = date.fromisoformat(date_time)
        except ValueError:
            raise BadLine(f"date_time {date_time!r} is not a date") from None
        return ClosingBalance(card_token, as_of, _amount(amount, signed=True))
    kind = RECORD_KINDS.get(record_type)
    if kind is None:
        raise BadLine(f"record_type {record_type!r} is not one of {', '.join(RECORD_KINDS)}")
    if not transaction_id:
        raise BadLine("transaction_id is empty")
    try:
        occurred = datetime.fromisoformat(date_time)
    except ValueError:
        raise BadLine(f"date_time {date_time!r} is not an ISO 8601 time") from None
    if occurred.tzinfo is None:
        raise BadLine("date_time needs a UTC offset (Z or +01:00)")
    # Every field of the event, as CanonicalEvent's constructor would set them (see
    # ``event_of``). The transaction id is the ledger's idempotency key: one too long for
    # the key column is digested, never cut, so two ids never become one.
    event = event_of(
        {
            "kind": kind,
            "event_id": keys.ledger_key(transaction_id),
            "occurred_at": occurred.astimezone(UTC),
            "card_token": card_token,
            "amount": _amount(amount, signed=False),
            "currency": currency,
            "merchant_amount": _amount(merchant_amount, signed=False) if merchant_amount else None,
            "merchant_currency": merchant_currency or None,
            "payment_id": authorisation_id or None,
            "merchant_name": merchant_name[:200] or None,
            "mcc": mcc or None,
            "cash": record_type == "CASH_WITHDRAWAL",
            "payee": counterparty[:200] or None,
            "reference": reference[:200] or None,
            "full": False,
            "absolute": False,
            "reason": None,
            "card_status": None,
            "emergency": False,
            "increment": False,
        }
    )
    problems = check_event(event)
    if problems:
        raise BadLine("; ".join(problems))
    return event


def _amount(text: str, *, signed: bool) -> int:
    pence = _plain_pence(text)
    if pence is None:
        try:
            pence = parse_pounds(text)
        except InvalidAmount as error:
            raise BadLine(f"amount: {error.detail}") from None
    if not signed and pence <= 0:
        raise BadLine("amount must be above zero (the record type says which way it moves)")
    return pence


def _plain_pence(text: str) -> int | None:
    """The pence of an amount written the usual way ("12.34", "7.5", "1234"), else None
    (``parse_pounds`` then reads it, or says what is wrong). The same value either way,
    without its regular expression and Decimal for nearly every line."""
    whole, point, fraction = text.partition(".")
    if not (whole.isascii() and whole.isdigit() and len(whole) <= 15):
        return None
    if not point:
        return int(whole) * 100
    if fraction.isascii() and fraction.isdigit() and len(fraction) <= 2:
        return int(whole) * 100 + int(fraction.ljust(2, "0"))
    return None


class Row(NamedTuple):
    """One physical line: its fields, or why it is not a CSV record."""

    number: int
    text: str
    fields: list[str] | None
    error: str | None = None


def read(row: Row) -> Line | str:
    """The line a row holds, or why it is not one."""
    if row.fields is None:
        return row.error or "unreadable"
    try:
        return parse_line(row.fields)
    except BadLine as error:
        return str(error)


# Characters that need the csv module: quoting, and what it refuses outside quotes.
_NEEDS_CSV = re.compile('["\r\x00]')


def row_of(number: int, text: str) -> Row:
    """The row of one line's text (its line break removed)."""
    if len(text) > MAX_LINE:
        return Row(number, text, None, f"the line is longer than {MAX_LINE:,} characters")
    if _NEEDS_CSV.search(text) is None:
        # Without quotes a record is its text split at the commas (RFC 4180).
        return Row(number, text, text.split(","))
    try:
        return Row(number, text, next(csv.reader([text], strict=True)))
    except csv.Error as error:
        return Row(number, text, None, f"not a CSV record: {error}")


def rows(handle: IO[bytes], progress: Callable[[int], None] | None = None) -> Iterator[Row]:
    """Each non-blank physical line (fields may not contain line breaks).

    ``progress`` is called now and then with the number of bytes read since its last call.
    """
    unreported = 0
    for number, raw in enumerate(handle, start=1):
        unreported += len(raw)
        if progress is not None and unreported >= _PROGRESS_STEP:
            progress(unreported)
            unreported = 0
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            yield Row(number, raw.decode("utf-8", "replace"), None, NOT_UTF8)
            continue
        if not text.strip():
            if number == 1:
                yield Row(number, text, None, "the file starts with a blank line")
            continue
        yield row_of(number, text)
    if progress is not None and unreported:
        progress(unreported)


def card_token_of(row: Row) -> str | None:
    """The card token a row names, if it has the statement's fields."""
    if row.fields is None or len(row.fields) != len(COLUMNS):
        return None
    return row.fields[2].strip() or None
