"""The generator's merchants mean, to monitoring, what they are listed as: background
spending lands on the plan line it is for, and planted cases move money where no line
looks."""

from __future__ import annotations

import pytest

from ledger.models import PlanCategory
from portal.population import catalogue
from portal.population.catalogue import Merchant


@pytest.mark.parametrize(
    ("category", "merchant"),
    [(c, m) for c, merchants in catalogue.MERCHANTS.items() for m in merchants],
    ids=lambda value: getattr(value, "name", str(value)),
)
def test_each_merchant_means_its_category(category: PlanCategory, merchant: Merchant) -> None:
    assert catalogue.spend_category(merchant.mcc) == category.value
    assert 0 < merchant.low < merchant.high


def test_unclassified_merchants_touch_no_plan_line() -> None:
    assert {catalogue.spend_category(m.mcc) for m in catalogue.UNCLASSIFIED} == {None}


def test_blocked_and_cash_merchants() -> None:
    assert {catalogue.spend_category(m.mcc) for m in catalogue.BLOCKED} == {"gambling"}
    assert catalogue.spend_category(catalogue.CASH_MACHINE.mcc) == "cash"
