"""The MCC map (``ledger.categories``, shared with the adapters and the portal) as SQL, so
monitors classify every transfer in the database, not in Python; and the codes whose
authorisations stay valid longer (the hold-expiry job).

An MCC the map does not know is *unclassified*, and monitors never call unclassified
spend "outside the plan". A category already on the transfer, when it is a known one,
is preferred to the MCC.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, literal, or_
from sqlalchemy.sql.expression import ColumnElement

from ledger.categories import (
    ALCOHOL,
    BY_MCC,
    CASH,
    GAMBLING,
    KNOWN_CATEGORIES,
    RANGES,
    TOBACCO,
    category_of,
)

__all__ = [
    "ALCOHOL",
    "CASH",
    "GAMBLING",
    "KNOWN_CATEGORIES",
    "TOBACCO",
    "category_of",
    "category_sql",
    "long_hold_sql",
]

# Hotels and car hire: authorisations stay valid longer (the hold-expiry job).
LONG_HOLD_MCCS: tuple[tuple[str, str], ...] = (("7011", "7011"), ("3501", "3999"))
LONG_HOLD_MCCS += (("3351", "3441"), ("7512", "7512"))


def category_sql(mcc: Any, category: Any) -> ColumnElement[Any]:
    """``ledger.categories.category_of`` as a SQL expression over a transfer's MCC and
    category columns."""
    whens: list[tuple[ColumnElement[bool], Any]] = [(category.in_(KNOWN_CATEGORIES), category)]
    by_category: dict[str, list[str]] = {}
    for code, cat in BY_MCC.items():
        by_category.setdefault(str(cat), []).append(code)
    for cat, codes in sorted(by_category.items()):
        whens.append((mcc.in_(sorted(codes)), literal(cat)))
    for first, last, cat in RANGES:
        in_range = and_(func.length(mcc) == 4, mcc >= first, mcc <= last)
        whens.append((in_range, literal(str(cat))))
    return case(*whens, else_=None)


def long_hold_sql(mcc: Any) -> ColumnElement[bool]:
    return or_(*(and_(mcc >= first, mcc <= last) for first, last in LONG_HOLD_MCCS))
