"""Scheduled loads (on the council's dates, moved earlier off weekends and bank holidays,
net of contributions, paused for suspended cards, exactly once) and hold expiry."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from ledger.models import Transfer, TransferCode
from ledger.ports import CardCommand
from monitoring.actions import OfficerActions
from monitoring.dates import working_day_on_or_before
from monitoring.holds import expire_old_holds
from monitoring.life_events import LifeEvents
from monitoring.models import ScheduledLoadRun, ScheduledLoadStatus
from monitoring.scheduled_loads import due_dates, run_scheduled_loads
from monitoring.settings import MonitoringSettings, set_setting
from tests.monitoring.builders import World, at
from tests.monitoring.fakes import RecordingProvider


@pytest.mark.parametrize(
    ("due", "moved"),
    [
        (date(2026, 12, 25), date(2026, 12, 24)),  # Christmas Day, a Friday
        (date(2026, 12, 28), date(2026, 12, 24)),  # Boxing Day (substitute), Christmas
        (date(2026, 5, 2), date(2026, 5, 1)),  # a Saturday
        (date(2026, 5, 4), date(2026, 5, 1)),  # Early May bank holiday, a Monday
        (date(2026, 4, 6), date(2026, 4, 2)),  # Easter Monday, after Good Friday
        (date(2026, 4, 8), date(2026, 4, 8)),  # an ordinary Wednesday
    ],
)
def test_load_days_move_earlier_off_weekends_and_english_bank_holidays(due, moved):
    assert working_day_on_or_before(due) == moved


def test_due_dates_follow_the_plan_or_the_councils_anchor():
    assert due_dates(date(2026, 11, 27), 4, None, date(2026, 12, 1), date(2027, 1, 31)) == [
        date(2026, 12, 25),
        date(2027, 1, 22),
    ]
    anchor = date(2026, 1, 5)  # the council's 4-weekly calendar
    assert due_dates(date(2026, 11, 27), 4, anchor, date(2026, 11, 1), date(2026, 12, 31)) == [
        date(2026, 12, 7),
    ]


def loads(session, plan_id):
    return (
        session.execute(
            select(Transfer).where(
                Transfer.code == TransferCode.LOAD,
                Transfer.idempotency_key.like(f"scheduled-load:{plan_id}:%"),
            )
        )
        .scalars()
        .all()
    )


def test_christmas_load_is_made_on_christmas_eve_net_of_contribution_and_once(session, clock):
    world = World(session, clock)
    case = world.case(budget=96000, contribution=8000, starts_on=date(2026, 11, 27))
    provider = RecordingProvider()
    clock.current = at(date(2026, 12, 23), 5)
    assert [load.id for load in loads(session, case.plan.id)] == []
    run_scheduled_loads(session, clock, provider)  # the 27 Nov load is past the catch-up
    assert loads(session, case.plan.id) == []
    clock.current = at(date(2026, 12, 24), 5)
    result = run_scheduled_loads(session, clock, provider)
    (made,) = result.loaded
    assert (made.due_on, made.load_on, made.amount) == (
        date(2026, 12, 25),
        date(2026, 12, 24),
        88000,
    )
    again = run_scheduled_loads(session, clock, provider)
    clock.current = at(date(2026, 12, 29), 5)
    later = run_scheduled_loads(session, clock, provider)
    assert again.loaded == later.loaded == [] and again.already == later.already == 1
    (transfer,) = loads(session, case.plan.id)
    assert transfer.amount == 88000
    assert transfer.idempotency_key == f"scheduled-load:{case.plan.id}:2026-12-25"
    (told,) = provider.commands(CardCommand.LOAD)
    assert told.key == transfer.idempotency_key


def test_a_council_that_loads_gross_loads_the_whole_budget(session, clock):
    world = World(session, clock)
    case = world.case(budget=96000, contribution=8000, starts_on=date(2026, 4, 8))
    set_setting(session, clock, "loads_net_of_contribution", False, officer="lead", reason="gross")
    clock.current = at(date(2026, 4, 8), 5)
    (made,) = run_scheduled_loads(session, clock, RecordingProvider()).loaded
    assert made.amount == 96000 and made.plan_id == case.plan.id


def test_loads_pause_while_the_card_is_suspended_and_resume_after(session, clock):
    world = World(session, clock)
    case = world.case(budget=50000, starts_on=date(2026, 4, 8))
    provider = RecordingProvider()
    OfficerActions(session, clock, provider).suspend_card(case.card.id, officer="o1", reason="r")
    clock.current = at(date(2026, 4, 8), 5)
    result = run_scheduled_loads(session, clock, provider)
    assert len(result.paused) == 1 and loads(session, case.plan.id) == []
    run = session.execute(select(ScheduledLoadRun)).scalar_one()
    assert run.status is ScheduledLoadStatus.PAUSED
    OfficerActions(session, clock, provider).unsuspend_card(case.card.id, officer="o1", reason="r")
    clock.current = at(date(2026, 4, 9), 5)
    assert len(run_scheduled_loads(session, clock, provider).loaded) == 1
    assert run.status is ScheduledLoadStatus.LOADED and len(loads(session, case.plan.id)) == 1


def test_holds_expire_after_seven_days_hotels_and_car_hire_after_31(session, clock):
    world = World(session, clock)
    case = world.case(load=100000)
    shop = world.ledger.authorise(case.card.id, 1000, source="t", key="h1", mcc="5411")
    hotel = world.ledger.authorise(case.card.id, 1000, source="t", key="h2", mcc="7011")
    car = world.ledger.authorise(case.card.id, 1000, source="t", key="h3", mcc="3390")
    clock.advance(days=7)
    assert expire_old_holds(session, clock) == []
    clock.advance(seconds=1)
    assert expire_old_holds(session, clock) == [shop.hold_id]
    assert expire_old_holds(session, clock) == []
    clock.advance(days=24)
    assert expire_old_holds(session, clock, settings=MonitoringSettings()) == [
        hotel.hold_id,
        car.hold_id,
    ]
    expired = session.execute(
        select(func.count()).select_from(Transfer).where(Transfer.code == TransferCode.HOLD_EXPIRY)
    ).scalar_one()
    assert expired == 3
    assert world.ledger.balances(case.budget.id).available == 100000


def test_a_paused_load_is_made_when_the_card_is_unsuspended_weeks_later(session, clock):
    world = World(session, clock)
    case = world.case(budget=50000, starts_on=date(2026, 4, 8))
    provider = RecordingProvider()
    actions = OfficerActions(session, clock, provider)
    actions.suspend_card(case.card.id, officer="o1", reason="r")
    clock.current = at(date(2026, 4, 8), 5)
    assert len(run_scheduled_loads(session, clock, provider).paused) == 1
    actions.unsuspend_card(case.card.id, officer="o1", reason="r")
    clock.current = at(date(2026, 4, 18), 5)  # ten days later: past the 7-day catch-up
    (made,) = run_scheduled_loads(session, clock, provider).loaded
    assert made.due_on == date(2026, 4, 8)
    run = session.execute(select(ScheduledLoadRun)).scalar_one()
    assert run.status is ScheduledLoadStatus.LOADED
    assert [t.amount for t in loads(session, case.plan.id)] == [50000]


def test_a_paused_load_waits_while_the_card_stays_suspended(session, clock):
    world = World(session, clock)
    case = world.case(budget=50000, starts_on=date(2026, 4, 8))
    provider = RecordingProvider()
    OfficerActions(session, clock, provider).suspend_card(case.card.id, officer="o1", reason="r")
    clock.current = at(date(2026, 4, 8), 5)
    run_scheduled_loads(session, clock, provider)
    clock.current = at(date(2026, 5, 12), 5)  # the 6 May load is paused too
    result = run_scheduled_loads(session, clock, provider)
    assert sorted(load.due_on for load in result.paused) == [date(2026, 4, 8), date(2026, 5, 6)]
    assert loads(session, case.plan.id) == []


def test_no_load_is_made_on_or_after_the_persons_death(session, clock):
    world = World(session, clock)
    died = world.case(budget=50000, starts_on=date(2026, 4, 8))
    died_later = world.case(budget=50000, starts_on=date(2026, 4, 8))
    events = LifeEvents(session, clock)
    events.death(died.person.id, date(2026, 4, 8), officer="o1", note="GP")
    events.death(died_later.person.id, date(2026, 4, 9), officer="o1", note="GP")
    clock.current = at(date(2026, 4, 8), 5)
    result = run_scheduled_loads(session, clock, RecordingProvider())
    assert [load.plan_id for load in result.person_died] == [died.plan.id]
    assert [load.plan_id for load in result.loaded] == [died_later.plan.id]
    assert loads(session, died.plan.id) == []
    run = session.execute(
        select(ScheduledLoadRun).where(ScheduledLoadRun.plan_id == died.plan.id)
    ).scalar_one()
    assert run.status is ScheduledLoadStatus.PERSON_DIED
    clock.current = at(date(2026, 5, 6), 5)  # the next period: nothing for either
    again = run_scheduled_loads(session, clock, RecordingProvider())
    assert again.loaded == [] and len(again.person_died) == 2


def test_a_paused_load_is_not_made_after_the_person_has_died(session, clock):
    world = World(session, clock)
    case = world.case(budget=50000, starts_on=date(2026, 4, 8))
    provider = RecordingProvider()
    actions = OfficerActions(session, clock, provider)
    actions.suspend_card(case.card.id, officer="o1", reason="r")
    clock.current = at(date(2026, 4, 8), 5)
    run_scheduled_loads(session, clock, provider)
    LifeEvents(session, clock).death(case.person.id, date(2026, 4, 7), officer="o1", note="GP")
    actions.unsuspend_card(case.card.id, officer="o1", reason="r")
    clock.current = at(date(2026, 4, 10), 5)
    result = run_scheduled_loads(session, clock, provider)
    assert result.loaded == [] and len(result.person_died) == 1
    assert loads(session, case.plan.id) == []
