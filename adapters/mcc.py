"""Merchant category codes: descriptions and ranges from the ISO 18245 database (the
``iso18245`` package, with Stripe's category names), and the one place where an MCC is
mapped to a plan category and where council-blocked categories are named.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import iso18245

from ledger.models import PlanCategory

CASH_MCCS = frozenset({"6010", "6011"})  # manual and automated cash disbursements

# Council-wide blocks. Gambling is blocked by default; alcohol and tobacco are named here
# for councils that block them and for monitoring, which flags them.
GAMBLING_MCCS = frozenset({"7800", "7801", "7802", "7995", "9406"})
ALCOHOL_MCCS = frozenset({"5813", "5921"})
TOBACCO_MCCS = frozenset({"5993"})
QUASI_CASH_MCCS = frozenset({"4829", "6051", "6540"})
DEFAULT_BLOCKED_MCCS = GAMBLING_MCCS

# MCC -> plan category. Exact codes win over ranges. What is not here has no category:
# monitoring treats it as spend outside the plan unless a plan line names the MCC.
_PLAN_CATEGORY_BY_MCC: dict[str, PlanCategory] = {
    "6010": PlanCategory.CASH,
    "6011": PlanCategory.CASH,
    "8050": PlanCategory.AGENCY_CARE,  # nursing and personal care facilities
    "8099": PlanCategory.AGENCY_CARE,  # medical services (home care agencies code here)
    "8351": PlanCategory.REPLACEMENT_CARE,  # child and adult day care services
    "7011": PlanCategory.SHORT_BREAK,  # hotels, motels and resorts
    "7032": PlanCategory.SHORT_BREAK,  # recreation camps
    "7033": PlanCategory.SHORT_BREAK,  # campgrounds
    "5047": PlanCategory.EQUIPMENT,  # medical and hospital equipment
    "5912": PlanCategory.EQUIPMENT,  # pharmacies
    "5976": PlanCategory.EQUIPMENT,  # orthopaedic goods and prosthetic devices
    "5712": PlanCategory.EQUIPMENT,
    "5722": PlanCategory.EQUIPMENT,
    "5732": PlanCategory.EQUIPMENT,
    "5251": PlanCategory.EQUIPMENT,
    "5200": PlanCategory.EQUIPMENT,
    "5541": PlanCategory.TRANSPORT,
    "5542": PlanCategory.TRANSPORT,
    "7512": PlanCategory.TRANSPORT,
    "7523": PlanCategory.TRANSPORT,
    "7230": PlanCategory.WELLBEING,  # barbers and hairdressers
    "7298": PlanCategory.WELLBEING,  # health and beauty spas
    "7997": PlanCategory.WELLBEING,  # clubs, gyms, memberships
    "8041": PlanCategory.WELLBEING,
    "8049": PlanCategory.WELLBEING,
    "9311": PlanCategory.HMRC_PAYE,  # tax payments
    "6300": PlanCategory.EMPLOYERS_LIABILITY_INSURANCE,
    "5960": PlanCategory.EMPLOYERS_LIABILITY_INSURANCE,  # direct marketing of insurance
    "8931": PlanCategory.PAYROLL_SERVICE,  # accounting and bookkeeping
}

# Inclusive MCC ranges -> plan category, for codes not listed above.
_PLAN_CATEGORY_RANGES: tuple[tuple[int, int, PlanCategory], ...] = (
    (3000, 3350, PlanCategory.TRANSPORT),  # airlines
    (3351, 3500, PlanCategory.TRANSPORT),  # car hire
    (3501, 3999, PlanCategory.SHORT_BREAK),  # hotels and lodging
    (4000, 4799, PlanCategory.TRANSPORT),  # transportation
    (7829, 7999, PlanCategory.DAY_ACTIVITY),  # amusement, recreation (less what is blocked)
    (8200, 8299, PlanCategory.DAY_ACTIVITY),  # education
)


@dataclass(frozen=True)
class MerchantCategory:
    mcc: str
    description: str
    range_description: str
    stripe_code: str | None
    plan_category: PlanCategory | None


def is_cash(mcc: str | None) -> bool:
    return mcc in CASH_MCCS


def plan_category(mcc: str | None) -> PlanCategory | None:
    """The plan category an MCC's spending belongs to, or None when we do not know."""
    if not mcc or len(mcc) != 4 or not mcc.isdigit():
        return None
    if mcc in GAMBLING_MCCS:
        return None  # never part of a plan, whatever range it sits in
    exact = _PLAN_CATEGORY_BY_MCC.get(mcc)
    if exact is not None:
        return exact
    number = int(mcc)
    for first, last, category in _PLAN_CATEGORY_RANGES:
        if first <= number <= last:
            return category
    return None


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


def valid_mcc(mcc: str) -> bool:
    return len(mcc) == 4 and mcc.isdigit()
