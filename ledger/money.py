"""Money is an ``int`` of pence inside; it becomes ``£1,234.56`` only at the edge."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from ledger.errors import InvalidAmount


def parse_pounds(text: str | int | Decimal) -> int:
    """Parse an amount in pounds ("12.34", "£1,234.5") exactly into pence.

    Floats are refused (they cannot hold most pence exactly) and so are sub-penny amounts.
    """
    if isinstance(text, bool | float):
        raise InvalidAmount(f"amount must be given as text or Decimal, not {type(text).__name__}")
    if isinstance(text, int):
        return text * 100
    raw = text if isinstance(text, Decimal) else text.strip().replace("£", "").replace(",", "")
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


def format_pence(pence: int) -> str:
    """``123456`` → ``£1,234.56``; negative amounts as ``-£12.00``."""
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    return f"{sign}£{pounds:,}.{rest:02d}"
