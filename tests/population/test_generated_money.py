"""A generated population is made through the real services and adapters: the books
balance and the hash chain verifies; the loads are the scheduled-loads job's own; the
provider's reports, webhooks and statement file went through the adapters; and the mix
of people, cards and payments is what a council sees."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from adapters.models import InboundEvent, StatementImport
from adapters.outbound import OutboundCommands
from adapters.simulated import SimulatedProvider
from ledger.chain import verify_chain
from ledger.checks import check_balances
from ledger.clock import FixedClock
from ledger.models import (
    Card,
    CardKind,
    CaringRelationship,
    Phase,
    Plan,
    PlanKind,
    ReconciliationBreak,
    Transfer,
    TransferCode,
)
from monitoring.models import EmergencyLoad, LifeEvent, LifeEventKind
from monitoring.scheduled_loads import run_scheduled_loads
from portal.population import catalogue
from portal.population.spec import at
from tests.population.conftest import Population


def test_the_books_balance_and_the_chain_verifies(population: Population) -> None:
    with population.sessions() as session:
        report = check_balances(session)
        assert report.ok, report.problems
        chain = verify_chain(session)
        assert chain.ok, chain.problem
        assert chain.transfers_checked > 3000


def test_people_carers_plans_and_cards(population: Population) -> None:
    made = population.made
    with population.sessions() as session:
        kinds = Counter(session.execute(select(Card.kind)).scalars())
        plans = Counter(session.execute(select(Plan.kind)).scalars())
        households = Counter(session.execute(select(CaringRelationship.shares_household)).scalars())
    assert set(kinds) == {CardKind.PRIMARY, CardKind.CARER, CardKind.COMPANION}
    assert kinds[CardKind.PRIMARY] == population.spec.people
    assert sum(kinds.values()) == made.cards
    assert plans[PlanKind.CARE_AND_SUPPORT] == population.spec.people
    assert plans[PlanKind.CARER_SUPPORT] == kinds[CardKind.CARER]
    assert households[True] and households[False]


def test_the_mix_of_payments(population: Population) -> None:
    with population.sessions() as session:
        codes = Counter(session.execute(select(Transfer.code)).scalars())
        phases = Counter(session.execute(select(Transfer.phase)).scalars())
        mccs = session.execute(
            select(Transfer.mcc).where(Transfer.code == TransferCode.CARD_SPEND).distinct()
        ).scalars()
        categories = {catalogue.spend_category(mcc) for mcc in mccs if mcc}
    for code in (
        TransferCode.LOAD,
        TransferCode.EMERGENCY_LOAD,
        TransferCode.CONTRIBUTION,
        TransferCode.CARD_SPEND,
        TransferCode.CASH_WITHDRAWAL,
        TransferCode.DIRECT_DEBIT,
        TransferCode.STANDING_ORDER,
        TransferCode.FASTER_PAYMENT,
        TransferCode.REFUND,
        TransferCode.POT_ALLOCATION,
        TransferCode.HOLD_VOID,
    ):
        assert codes[code], f"no {code} transfers"
    assert codes[TransferCode.CARD_SPEND] > codes[TransferCode.LOAD] * 5
    assert phases[Phase.PENDING] > phases[Phase.POST_PENDING] > 0  # some still waiting
    assert {"wellbeing", "transport", "day_activity", "gambling", "short_break"} <= categories


def test_what_the_adapters_took_in(population: Population) -> None:
    made = population.made
    with population.sessions() as session:
        webhooks = session.execute(
            select(func.count())
            .select_from(InboundEvent)
            .where(InboundEvent.provider == "simulated")
        ).scalar_one()
        imports = session.execute(select(StatementImport)).scalars().all()
        breaks = session.execute(select(func.count()).select_from(ReconciliationBreak)).scalar_one()
    assert made.live["approved"] > 0 and webhooks >= made.live["approved"]
    assert len(imports) == 1 and imports[0].balances_checked > 0
    assert imports[0].lines_quarantined == 0
    planted = [e for e in made.truth.expected if e.monitor == "reconciliation_break"]
    assert breaks == len(planted)


def test_officers_recorded_the_life_events_and_emergency_loads(population: Population) -> None:
    planted = Counter(e.plant for e in population.made.truth.expected)
    with population.sessions() as session:
        events = Counter(session.execute(select(LifeEvent.kind)).scalars())
        emergency = session.execute(select(func.count()).select_from(EmergencyLoad)).scalar_one()
    assert events[LifeEventKind.DEATH] == planted["spend_after_death"]
    assert events[LifeEventKind.HOSPITAL_STAY] == planted["spend_in_hospital"]
    assert emergency == planted["surplus"] + planted["pattern_change"]


def test_the_scheduled_loads_job_recognises_the_loads_as_made(population: Population) -> None:
    """The generator loads as the job does, so the job's catch-up makes no second load."""
    clock = FixedClock(at(population.spec.today, 10))
    with population.sessions() as session:
        before = session.execute(select(func.max(Transfer.id))).scalar_one()
        provider = OutboundCommands(
            session, clock, {"simulated": SimulatedProvider(session, clock)}
        )
        result = run_scheduled_loads(session, clock, provider)
        after = session.execute(select(func.max(Transfer.id))).scalar_one()
        session.rollback()
    assert result.loaded, "the job saw the week's loads"
    assert after == before
