"""The generated population's vocabulary: names, merchants by what their spending is for,
and the payees of bank payments.

Every merchant's MCC is checked (``tests/population``) to mean, to monitoring, the plan
category it is listed under (``spend_category``), so background spending lands on the
plan line it was meant for. ``UNCLASSIFIED`` merchants mean nothing to either MCC map:
planted cases use them to move money without touching a plan line.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters import mcc as adapter_mcc
from ledger.models import PlanCategory
from monitoring import mcc as monitor_mcc


@dataclass(frozen=True)
class Merchant:
    name: str
    mcc: str
    low: int  # a typical payment, in pence, from ...
    high: int  # ... to


_C = PlanCategory


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


MERCHANTS: dict[PlanCategory, tuple[Merchant, ...]] = {
    _C.WELLBEING: (
        Merchant("Tesco Superstore", "5411", 1500, 6500),
        Merchant("Sainsbury's", "5411", 1200, 5500),
        Merchant("Co-op Food", "5411", 600, 2500),
        Merchant("Boots Pharmacy", "5912", 450, 2200),
        Merchant("Well Pharmacy", "5912", 400, 1800),
        Merchant("Greenway Garden Centre", "5261", 900, 4500),
        Merchant("Dobbies Garden Centre", "5261", 1200, 5000),
        Merchant("Costa Coffee", "5812", 350, 1200),
        Merchant("Cut Above Hairdressers", "7230", 1500, 3500),
        Merchant("Waterstones", "5942", 800, 2500),
    ),
    _C.TRANSPORT: (
        Merchant("Town Taxis", "4121", 700, 2400),
        Merchant("A1 Cars", "4121", 800, 2800),
        Merchant("Northern Rail", "4111", 450, 3200),
        Merchant("Stagecoach Buses", "4131", 250, 900),
    ),
    _C.DAY_ACTIVITY: (
        Merchant("Riverside Day Centre", "8351", 2500, 6000),
        Merchant("Oaklands Day Opportunities", "8351", 3000, 6500),
        Merchant("Everyone Active Leisure Centre", "7997", 500, 2500),
        Merchant("Community Arts Studio", "8299", 800, 3000),
    ),
    _C.EQUIPMENT: (
        Merchant("CareCo Mobility", "5047", 1500, 9000),
        Merchant("Homebase", "5200", 1000, 6000),
        Merchant("Argos", "5732", 1500, 8000),
    ),
    _C.SHORT_BREAK: (
        Merchant("Premier Inn", "7011", 6000, 15000),
        Merchant("Coast Breaks", "4722", 12000, 30000),
    ),
    _C.AGENCY_CARE: (Merchant("Helping Hands Home Care", "8050", 4000, 12000),),
}
# Planted cases only: categories the MCC maps do not know, so no plan line is touched.
UNCLASSIFIED: tuple[Merchant, ...] = (
    Merchant("Online Marketplace", "5999", 2000, 20000),
    Merchant("Gold Street Jewellers", "5944", 5000, 30000),
    Merchant("PC World Business", "5045", 5000, 40000),
    Merchant("Fashion Outlet", "5691", 2000, 12000),
)
BLOCKED: tuple[Merchant, ...] = (
    Merchant("Bet Direct", "7995", 1000, 5000),
    Merchant("Coral Racing", "7995", 500, 4000),
)
CASH_MACHINE = Merchant("Cash machine", "6011", 1000, 4000)

AGENCIES = (
    "Brightwell Homecare Ltd",
    "Oakfield Care Agency",
    "Helping Hands Home Care",
    "Caremark Anytown",
    "Bluebird Care",
    "Home Instead Anytown",
    "Radfield Home Care",
)
RESPITE_PROVIDERS = ("Haven Replacement Care", "Willow Respite Services", "Crossroads Care")
HMRC = "HMRC PAYE"
PAYROLL = "Anytown Payroll Bureau"
INSURERS = ("Markel Insurance", "Fish Insurance", "Ansvar Insurance")
STRANGERS = ("J Carter Building Services", "Quick Loans Direct", "M Harris")

FIRST_NAMES = _words(
    "Amelia Olivia Isla Ava Mia Grace Lily Freya Evelyn Joan Margaret Dorothy "
    "Patricia Susan Linda Aisha Fatima Priya Mei Zofia Oliver George Harry Jack "
    "Noah Arthur Leo Thomas James William David Peter Michael Raj Mohammed Tariq "
    "Kwame Tomasz Sean Gareth"
)
SURNAMES = _words(
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Robinson Wright "
    "Thompson Evans Walker White Roberts Green Hall Wood Jackson Clarke Khan Ahmed "
    "Hughes Edwards Lewis Begum Nowak Okafor Murphy"
)
RELATIONSHIPS = ("daughter", "son", "wife", "husband", "partner", "sister", "friend")
HOUSEHOLD_RELATIONSHIPS = ("wife", "husband", "partner", "daughter", "son")


def spend_category(mcc: str) -> str | None:
    """What monitoring takes spending at this MCC to be for (as a transfer the adapters
    recorded carries it): ``None`` when it cannot tell."""
    adapter_category = adapter_mcc.plan_category(mcc)
    return monitor_mcc.category_of(mcc, adapter_category.value if adapter_category else None)
