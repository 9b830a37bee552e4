"""Merchant category codes: descriptions and ranges from the ISO 18245 database (the
``iso18245`` package, with Stripe's category names), and which codes a real-time decision
blocks. What an MCC's spending is for comes from the one map in ``ledger.categories``,
which monitoring and the portal read too.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import iso18245

from ledger.categories import (
    ALCOHOL_MCCS,
    CASH_MCCS,
    GAMBLING_MCCS,
    QUASI_CASH_MCCS,
    TOBACCO_MCCS,
    plan_category,
    valid_mcc,
)
from ledger.models import PlanCategory

__all__ = [
    "ALCOHOL_MCCS",
    "CASH_MCCS",
    "DEFAULT_BLOCKED_MCCS",
    "GAMBLING_MCCS",
    "QUASI_CASH_MCCS",
    "TOBACCO_MCCS",
    "MerchantCategory",
    "describe",
    "is_cash",
    "mcc_for_stripe_category",
    "plan_category",
    "valid_mcc",
]

# Council-wide blocks at authorisation. Gambling is blocked by default; alcohol and tobacco
# are named for councils that block them (monitoring flags them in any case).
DEFAULT_BLOCKED_MCCS = GAMBLING_MCCS


@dataclass(frozen=True)
class MerchantCategory:
    mcc: str
    description: str
    range_description: str
    stripe_code: str | None
    plan_category: PlanCategory | None


def is_cash(mcc: str | None) -> bool:
    return mcc in CASH_MCCS


@cache
def describe(mcc: str) -> MerchantCategory | None:
    """The ISO 18245 description of an MCC (Stripe's wording where it has one)."""
    try:
        found = iso18245.get_mcc(mcc)
    except (iso18245.MCCNotFound, iso18245.InvalidMCC, ValueError):
        return None
    description = (
        found.stripe_description
        or found.iso_description
        or found.visa_description
        or found.mastercard_description
        or found.range.description
    )
    return MerchantCategory(
        mcc=mcc,
        description=description,
        range_description=found.range.description,
        stripe_code=found.stripe_code or None,
        plan_category=plan_category(mcc),
    )


@cache
def _mcc_by_stripe_code() -> dict[str, str]:
    return {m.stripe_code: m.mcc for m in iso18245.get_all_mccs() if m.stripe_code}


def mcc_for_stripe_category(stripe_code: str | None) -> str | None:
    """Stripe's ``merchant_data.category`` (e.g. ``taxicabs_limousines``) as an MCC."""
    if not stripe_code:
        return None
    return _mcc_by_stripe_code().get(stripe_code)
