"""One map from MCC to what the spend is for (ledger.categories), read the same way by
monitoring (in SQL and in Python), the adapters and the holder's pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import literal, select

from adapters import mcc as adapters_mcc
from ledger import categories
from ledger.enrolment import PlanLineSpec
from ledger.models import PlanCategory
from monitoring import mcc as monitoring_mcc
from monitoring.runner import run_monitor
from portal.holder.plan_summary import category_for_mcc
from tests.monitoring.builders import START, World, at

SAMPLES = sorted(
    {*categories.BY_MCC, *(code for first, last, _ in categories.RANGES for code in (first, last))}
    | {"3300", "3441", "4214", "7832", "7933", "8211", "5999", "5944", "1234", "0000", "999"}
)


@pytest.mark.parametrize(
    ("mcc", "expected"),
    [
        ("8351", PlanCategory.DAY_ACTIVITY.value),  # day centres
        ("5912", PlanCategory.WELLBEING.value),  # chemists
        ("7997", PlanCategory.DAY_ACTIVITY.value),  # leisure centres, clubs
        ("9406", categories.GAMBLING),  # government lotteries
    ],
)
def test_the_once_disputed_codes_have_one_answer_everywhere(mcc, expected):
    assert categories.spend_category(mcc) == monitoring_mcc.category_of(mcc) == expected
    plan = adapters_mcc.plan_category(mcc)
    assert (plan.value if plan else categories.GAMBLING) == expected
    assert category_for_mcc(mcc) == (None if expected == categories.GAMBLING else expected)


def test_monitorings_sql_says_what_the_map_says_for_every_code(session):
    for category in (None, "", "transport", "gambling", "not-a-category"):
        query = select(
            *(
                monitoring_mcc.category_sql(literal(code), literal(category or "")).label(f"c{n}")
                for n, code in enumerate(SAMPLES)
            )
        )
        got = session.execute(query).one()
        expected = tuple(categories.category_of(code, category) for code in SAMPLES)
        assert tuple(got) == expected, category


def test_the_adapters_plan_category_is_the_maps():
    for code in SAMPLES:
        assert adapters_mcc.plan_category(code) == categories.plan_category(code)
        described = adapters_mcc.describe(code)
        if described is not None:
            assert described.plan_category == categories.plan_category(code)
    assert categories.plan_category("7995") is None  # gambling is never in a plan
    assert categories.plan_category("4121") is PlanCategory.TRANSPORT  # by range too


def test_a_lottery_ticket_is_spend_in_a_blocked_category(session, clock):
    world = World(session, clock)
    case = world.case(load=100000)
    world.spend(case.card, 200, at(START + timedelta(days=1)), mcc="9406", merchant="Lotto")
    (hit,) = run_monitor(session, clock, "spend_outside_plan").hits
    assert hit.rule == "spend_outside_plan.blocked_category" and "gambling" in hit.title


def test_a_category_recorded_on_the_transfer_is_preferred_to_the_mcc(session, clock):
    world = World(session, clock)
    case = world.case(
        [
            PlanLineSpec(PlanCategory.AGENCY_CARE, "Homecare", 80000),
            PlanLineSpec(PlanCategory.TRANSPORT, "Taxis", 20000),
        ],
        load=100000,
    )
    # An electronics shop's code (equipment), recorded by the provider as transport.
    clock.current = at(START + timedelta(days=1))
    world.ledger.record_clearing(
        case.card.id, 3000, source="t", key="forced", mcc="5732", category="transport"
    )
    assert run_monitor(session, clock, "spend_outside_plan").hits == []
