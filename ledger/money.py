"""Money is an ``int`` of pence inside; it becomes ``£1,234.56`` only at the edge."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from ledger.errors import InvalidAmount

# Pounds as people and provider files write them: an optional sign and pound sign, whole
# pounds (with commas only between groups of three digits) and any decimal places. Not
# "1,50" (a decimal comma, which would otherwise read as £150), "1e3" or "1£2".
_POUNDS = re.compile(
    r"(?P<sign>[-+]?)£?(?P<sign_after>[-+]?)"
    r"(?P<whole>\d{1,3}(?:,\d{3})+|\d*)(?:\.(?P<fraction>\d*))?",
    re.ASCII,
)


def parse_pounds(text: str | int | Decimal) -> int:
    """Parse an amount in pounds ("12.34", "£1,234.5", "-£12.00") exactly into pence.

    Floats are refused (they cannot hold most pence exactly) and so are sub-penny amounts,
    and so is text that is not plainly an amount of pounds.
    """
    if isinstance(text, bool | float):
        raise InvalidAmount(f"amount must be given as text or Decimal, not {type(text).__name__}")
    if isinstance(text, int):
        return text * 100
    raw = text if isinstance(text, Decimal) else _plain_pounds(text)
    try:
        value = Decimal(raw)
    except (InvalidOperation, ValueError):
        raise InvalidAmount(f"{text!r} is not an amount of money") from None
    if not value.is_finite():
        raise InvalidAmount(f"{text!r} is not an amount of money")
    pence = value * 100
    if pence != pence.to_integral_value():
        raise InvalidAmount(f"{text!r} has a fraction of a penny")
    return int(pence)


def _plain_pounds(text: str) -> str:
    """The text of an amount without its pound sign and commas, if it is an amount."""
    found = _POUNDS.fullmatch(text.strip())
    if (
        found is None
        or (found["sign"] and found["sign_after"])
        or not (found["whole"] or found["fraction"])
    ):
        raise InvalidAmount(f"{text!r} is not an amount of money")
    sign = "-" if "-" in (found["sign"], found["sign_after"]) else ""
    return f"{sign}{found['whole'].replace(',', '') or '0'}.{found['fraction'] or '0'}"


def format_pence(pence: int) -> str:
    """``123456`` → ``£1,234.56``; negative amounts as ``-£12.00``."""
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    return f"{sign}£{pounds:,}.{rest:02d}"
