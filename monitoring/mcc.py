"""A small map from merchant category codes (ISO 18245) to what the spend is for.

Deliberately minimal: the codes councils meet most on direct-payment cards, mapped to
the plan categories that cover them, plus the council-blocked categories and cash. An
MCC it does not know is *unclassified*, and monitors never call unclassified spend
"outside the plan" (the adapters' full ISO 18245 mapping can fill ``Transfer.category``,
which is used when it names a category below). The same map is rendered as a SQL CASE
expression so monitors classify every transfer in the database, not in Python.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, literal, or_
from sqlalchemy.sql.expression import ColumnElement

from ledger.models import PlanCategory

GAMBLING = "gambling"
ALCOHOL = "alcohol"
TOBACCO = "tobacco"
CASH = PlanCategory.CASH.value

_P = PlanCategory

_CODES: dict[str, str] = {
    # cash
    "6010": CASH,
    "6011": CASH,
    # council-blocked by default
    "7995": GAMBLING,
    "7800": GAMBLING,
    "7801": GAMBLING,
    "7802": GAMBLING,
    "5921": ALCOHOL,
    "5813": ALCOHOL,
    "5993": TOBACCO,
    # transport
    "4111": _P.TRANSPORT,
    "4112": _P.TRANSPORT,
    "4121": _P.TRANSPORT,
    "4131": _P.TRANSPORT,
    "4789": _P.TRANSPORT,
    "5541": _P.TRANSPORT,
    "5542": _P.TRANSPORT,
    "7512": _P.TRANSPORT,
    "7523": _P.TRANSPORT,
    # breaks
    "4411": _P.SHORT_BREAK,
    "4722": _P.SHORT_BREAK,
    "7011": _P.SHORT_BREAK,
    "7032": _P.SHORT_BREAK,
    "7033": _P.SHORT_BREAK,
    # care
    "8050": _P.AGENCY_CARE,
    # day activities
    "7911": _P.DAY_ACTIVITY,
    "7941": _P.DAY_ACTIVITY,
    "7991": _P.DAY_ACTIVITY,
    "7996": _P.DAY_ACTIVITY,
    "7997": _P.DAY_ACTIVITY,
    "7999": _P.DAY_ACTIVITY,
    "8299": _P.DAY_ACTIVITY,
    "8351": _P.DAY_ACTIVITY,
    # equipment
    "5044": _P.EQUIPMENT,
    "5047": _P.EQUIPMENT,
    "5200": _P.EQUIPMENT,
    "5251": _P.EQUIPMENT,
    "5712": _P.EQUIPMENT,
    "5722": _P.EQUIPMENT,
    "5732": _P.EQUIPMENT,
    "5975": _P.EQUIPMENT,
    "5976": _P.EQUIPMENT,
    # wellbeing
    "5261": _P.WELLBEING,
    "5310": _P.WELLBEING,
    "5311": _P.WELLBEING,
    "5331": _P.WELLBEING,
    "5399": _P.WELLBEING,
    "5411": _P.WELLBEING,
    "5499": _P.WELLBEING,
    "5651": _P.WELLBEING,
    "5733": _P.WELLBEING,
    "5812": _P.WELLBEING,
    "5814": _P.WELLBEING,
    "5912": _P.WELLBEING,
    "5942": _P.WELLBEING,
    "5945": _P.WELLBEING,
    "7230": _P.WELLBEING,
    "7298": _P.WELLBEING,
    "7832": _P.WELLBEING,
    "8043": _P.WELLBEING,
    # employer's costs
    "9311": _P.HMRC_PAYE,
    "6300": _P.EMPLOYERS_LIABILITY_INSURANCE,
    "8931": _P.PAYROLL_SERVICE,
}

# (first, last, category): four-digit codes compare correctly as text.
_RANGES: tuple[tuple[str, str, str], ...] = (
    ("3000", "3299", _P.TRANSPORT),  # airlines
    ("3351", "3441", _P.TRANSPORT),  # car hire
    ("3501", "3999", _P.SHORT_BREAK),  # hotels
)

# Categories a transfer may already carry (from the adapters) that this map understands.
KNOWN_CATEGORIES: tuple[str, ...] = tuple(
    sorted({c.value for c in PlanCategory} | {GAMBLING, ALCOHOL, TOBACCO})
)

# Hotels and car hire: authorisations stay valid longer (the hold-expiry job).
LONG_HOLD_MCCS: tuple[tuple[str, str], ...] = (("7011", "7011"), ("3501", "3999"))
LONG_HOLD_MCCS += (("3351", "3441"), ("7512", "7512"))


def category_of(mcc: str | None, category: str | None = None) -> str | None:
    """What the spend is for, or None when it cannot be told."""
    if mcc:
        found = _CODES.get(mcc)
        if found is not None:
            return str(found)
        for first, last, cat in _RANGES:
            if first <= mcc <= last:
                return str(cat)
    if category in KNOWN_CATEGORIES:
        return category
    return None


def category_sql(mcc: Any, category: Any) -> ColumnElement[Any]:
    """``category_of`` as a SQL expression over a transfer's MCC and category columns."""
    whens: list[tuple[ColumnElement[bool], Any]] = []
    by_category: dict[str, list[str]] = {}
    for code, cat in _CODES.items():
        by_category.setdefault(str(cat), []).append(code)
    for cat, codes in sorted(by_category.items()):
        whens.append((mcc.in_(sorted(codes)), literal(cat)))
    for first, last, cat in _RANGES:
        whens.append((and_(mcc >= first, mcc <= last), literal(str(cat))))
    whens.append((category.in_(KNOWN_CATEGORIES), category))
    return case(*whens, else_=None)


def long_hold_sql(mcc: Any) -> ColumnElement[bool]:
    return or_(*(and_(mcc >= first, mcc <= last) for first, last in LONG_HOLD_MCCS))
