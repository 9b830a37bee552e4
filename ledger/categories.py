"""What a card payment was for: the one map from a merchant category code (ISO 18245) to
the plan category that covers such spending, or to a category councils may block.

Monitoring (is this spend in the plan?), the adapters (the category recorded on each
transfer, real-time blocks) and the holder's pages all read this map, so a payment is
never "equipment" to one part and "wellbeing" to another. Descriptions and ranges of the
codes themselves come from the ISO 18245 database (``adapters.mcc.describe``).

- An exact code wins over a range.
- A code the map does not know is *unclassified*: it is never called spend outside the
  plan, unless a plan line names it (its merchant categories) or its payee.
- A category already recorded on the transfer (``Transfer.category``), when it is one of
  ``KNOWN_CATEGORIES``, is preferred to the MCC: it may come from the provider or an
  officer who knows better than the merchant's code.

Disputed codes, decided for English direct payments (the adapters and monitoring used
to disagree on them):

- 8351 child and adult day care services: **day activity**. Day centres and day
  opportunities are the day activities of a care and support plan; replacement care (a
  carer's break) is usually a sitting service or a respite stay, coded 8050, 8099 or
  7011, and a plan line can still name 8351 for it.
- 5912 chemists and pharmacies: **wellbeing**. What a direct payment buys at a chemist is
  personal care and health items; medicines on prescription are the NHS's, and equipment
  (aids, hoists) comes from medical suppliers (5047, 5976). A line for continence
  supplies bought at a chemist names 5912.
- 7997 membership clubs, sports and leisure centres: **day activity**, like the rest of
  the recreation range 7829-7999: swimming, a gym session or a club is an activity in the
  community in most plans.
- 5411 supermarkets: **wellbeing** (the adapters left it unclassified). A plan that agrees
  food shopping or meals out covers it with a wellbeing line; one that does not sees it
  as spend outside the plan (low severity), which an officer wants to know, rather than
  never seeing it at all.
- 9406 government-owned lotteries: **gambling**, blocked like 7800-7802 and 7995 (betting,
  lotteries, casinos): no council lets a direct payment buy lottery tickets.
"""

from __future__ import annotations

from ledger.models.plans import PlanCategory

GAMBLING = "gambling"
ALCOHOL = "alcohol"
TOBACCO = "tobacco"
BLOCKABLE: tuple[str, ...] = (GAMBLING, ALCOHOL, TOBACCO)  # not plan categories
CASH = PlanCategory.CASH.value

QUASI_CASH = "quasi_cash"  # money orders, foreign exchange, stored value: blockable only
CASH_MCCS = frozenset({"6010", "6011"})  # manual and automated cash disbursements
QUASI_CASH_MCCS = frozenset({"4829", "6051", "6540"})
GAMBLING_MCCS = frozenset({"7800", "7801", "7802", "7995", "9406"})
ALCOHOL_MCCS = frozenset({"5813", "5921"})  # bars; off-licences
TOBACCO_MCCS = frozenset({"5993"})

_P = PlanCategory

# Exact codes -> category.
BY_MCC: dict[str, str] = {
    **{code: CASH for code in CASH_MCCS},
    **{code: GAMBLING for code in GAMBLING_MCCS},
    **{code: ALCOHOL for code in ALCOHOL_MCCS},
    **{code: TOBACCO for code in TOBACCO_MCCS},
    # transport
    "4111": _P.TRANSPORT,  # commuter transport, ferries
    "4112": _P.TRANSPORT,  # passenger railways
    "4121": _P.TRANSPORT,  # taxis
    "4131": _P.TRANSPORT,  # bus lines
    "4789": _P.TRANSPORT,
    "5541": _P.TRANSPORT,  # service stations
    "5542": _P.TRANSPORT,  # automated fuel dispensers
    "7512": _P.TRANSPORT,  # car hire
    "7523": _P.TRANSPORT,  # parking
    # short breaks
    "4411": _P.SHORT_BREAK,  # cruise lines
    "4722": _P.SHORT_BREAK,  # travel agencies and tour operators
    "7011": _P.SHORT_BREAK,  # hotels
    "7032": _P.SHORT_BREAK,  # recreation camps
    "7033": _P.SHORT_BREAK,  # campgrounds
    # care
    "8050": _P.AGENCY_CARE,  # nursing and personal care
    "8099": _P.AGENCY_CARE,  # medical services (home care agencies code here)
    # day activities
    "7911": _P.DAY_ACTIVITY,  # dance halls, studios
    "7941": _P.DAY_ACTIVITY,  # sports clubs
    "7991": _P.DAY_ACTIVITY,  # tourist attractions
    "7996": _P.DAY_ACTIVITY,  # amusement parks
    "7997": _P.DAY_ACTIVITY,  # membership clubs, leisure centres (see above)
    "7999": _P.DAY_ACTIVITY,  # recreation services
    "8299": _P.DAY_ACTIVITY,  # schools and educational services
    "8351": _P.DAY_ACTIVITY,  # day care services (see above)
    # equipment
    "5044": _P.EQUIPMENT,
    "5047": _P.EQUIPMENT,  # medical and hospital equipment
    "5200": _P.EQUIPMENT,  # home supply warehouses
    "5251": _P.EQUIPMENT,  # hardware
    "5712": _P.EQUIPMENT,  # furniture
    "5722": _P.EQUIPMENT,  # household appliances
    "5732": _P.EQUIPMENT,  # electronics
    "5975": _P.EQUIPMENT,  # hearing aids
    "5976": _P.EQUIPMENT,  # orthopaedic goods
    # wellbeing
    "5261": _P.WELLBEING,  # garden centres
    "5310": _P.WELLBEING,
    "5311": _P.WELLBEING,
    "5331": _P.WELLBEING,
    "5399": _P.WELLBEING,
    "5411": _P.WELLBEING,  # supermarkets
    "5499": _P.WELLBEING,
    "5651": _P.WELLBEING,
    "5733": _P.WELLBEING,  # music shops
    "5812": _P.WELLBEING,  # restaurants, cafes
    "5814": _P.WELLBEING,
    "5912": _P.WELLBEING,  # chemists (see above)
    "5942": _P.WELLBEING,  # bookshops
    "5945": _P.WELLBEING,  # hobby and games shops
    "7230": _P.WELLBEING,  # hairdressers
    "7298": _P.WELLBEING,  # health and beauty spas
    "7832": _P.WELLBEING,  # cinemas
    "8041": _P.WELLBEING,  # chiropractors
    "8043": _P.WELLBEING,  # opticians
    "8049": _P.WELLBEING,  # chiropodists
    # employer's costs
    "9311": _P.HMRC_PAYE,  # tax payments
    "6300": _P.EMPLOYERS_LIABILITY_INSURANCE,
    "5960": _P.EMPLOYERS_LIABILITY_INSURANCE,  # insurance sold direct
    "8931": _P.PAYROLL_SERVICE,  # accounting and bookkeeping
}

# (first, last, category), inclusive, for codes not listed above. Four-digit codes compare
# correctly as text, in Python and in SQL alike.
RANGES: tuple[tuple[str, str, str], ...] = (
    ("3000", "3350", _P.TRANSPORT),  # airlines
    ("3351", "3500", _P.TRANSPORT),  # car hire
    ("3501", "3999", _P.SHORT_BREAK),  # hotels and lodging
    ("4000", "4799", _P.TRANSPORT),  # transportation
    ("7829", "7999", _P.DAY_ACTIVITY),  # amusement and recreation
    ("8200", "8299", _P.DAY_ACTIVITY),  # education
)

# Every category the map can give, and that a transfer may carry already.
KNOWN_CATEGORIES: tuple[str, ...] = tuple(sorted({c.value for c in PlanCategory} | set(BLOCKABLE)))
# What a council's ``blocked_categories`` may name: what the map gives (real-time
# decisions block cash by its codes; monitoring leaves cash to its own monitor), and
# quasi-cash, which real-time decisions block by its codes though no plan covers it.
COUNCIL_BLOCKABLE: tuple[str, ...] = tuple(sorted({*KNOWN_CATEGORIES, QUASI_CASH}))


def valid_mcc(mcc: str | None) -> bool:
    return mcc is not None and len(mcc) == 4 and mcc.isdigit()


def spend_category(mcc: str | None) -> str | None:
    """What spending under this MCC is for, or None when the map does not know it."""
    if not valid_mcc(mcc):
        return None
    assert mcc is not None
    exact = BY_MCC.get(mcc)
    if exact is not None:
        return str(exact)
    for first, last, category in RANGES:
        if first <= mcc <= last:
            return str(category)
    return None


def category_of(mcc: str | None, category: str | None = None) -> str | None:
    """What a transfer's spend is for: its recorded category when it is a known one, else
    what its MCC says, else None (unclassified)."""
    if category in KNOWN_CATEGORIES:
        return category
    return spend_category(mcc)


def plan_category(mcc: str | None) -> PlanCategory | None:
    """The plan category an MCC's spending belongs to; None when it is unclassified or a
    category no plan covers (gambling, alcohol, tobacco)."""
    found = spend_category(mcc)
    if found is None or found in BLOCKABLE:
        return None
    return PlanCategory(found)
