"""Drawing the population on paper before it is enrolled: people, their carers, plans
with lines (and how each line is paid), cards and companion pots.

Pure and deterministic: each case is drawn from its own ``random.Random`` seeded with
the population's seed and the case's number, so one case never depends on another.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from adapters.canonical import EventKind
from ledger.models import CardKind, PlanCategory, PlanKind
from portal.population import catalogue as cat
from portal.population.spec import PopulationSpec, seeded

_C = PlanCategory


class Archetype(StrEnum):
    HOMECARE = "homecare"  # an agency paid by direct debit
    PA_EMPLOYER = "pa_employer"  # employs a personal assistant: PAYE, insurance, payroll
    DAY_ACTIVITIES = "day_activities"  # day centre, leisure, taxis: all by card
    MIXED = "mixed"


@dataclass
class LineDraft:
    category: PlanCategory
    description: str
    amount: int  # per period, or once for a one-off line
    one_off: bool = False
    payee: str | None = None  # an agreed payee: the line is paid by bank payment
    method: EventKind | None = None
    companion: bool = False  # the companion card pays for some of it
    line_id: int = 0


@dataclass
class PlanDraft:
    kind: PlanKind
    budget: int
    contribution: int
    cash: int
    starts_on: date
    review_date: date
    lines: list[LineDraft]
    plan_id: int = 0
    budget_id: int = 0


@dataclass
class PersonDraft:
    ref: str
    name: str
    born: date
    person_id: int = 0


@dataclass
class CardDraft:
    kind: CardKind
    token: str
    last4: str
    card_id: int = 0


@dataclass
class Case:
    """A cared-for person with their plan and card, and perhaps a carer: who may share
    their household, be paid as their PA (an agreed exception), have a carer's budget of
    their own, or hold a companion card on a pot of the person's budget."""

    index: int
    archetype: Archetype
    person: PersonDraft
    plan: PlanDraft
    card: CardDraft
    carer: PersonDraft | None = None
    relationship: str = ""
    shares_household: bool = False
    carer_is_pa: bool = False
    carer_plan: PlanDraft | None = None
    carer_card: CardDraft | None = None
    companion_card: CardDraft | None = None
    pot_id: int = 0  # the companion pot, and its account
    pot_account: int = 0
    plant: Plant | None = None


@dataclass
class Plant:
    """A planted case (``portal.population.plants``): its kind, and when and how."""

    kind: str
    day: date | None = None  # when it happens
    period: int | None = None  # the plan period it happens in
    stop: date | None = None  # from when something stops
    line: int = 0  # which plan line (its position in the plan)
    amount: int = 0
    on_companion: bool = False


def draw_roster(spec: PopulationSpec) -> list[Case]:
    return [draw_case(spec, n) for n in range(1, spec.people + 1)]


def draw_case(spec: PopulationSpec, n: int) -> Case:
    rng = seeded(spec.seed, "case", n)
    archetype = rng.choices(list(Archetype), weights=[35, 20, 25, 20])[0]
    prefix = spec.ref_prefix
    surname = rng.choice(cat.SURNAMES)
    oldest = 95 if archetype is Archetype.HOMECARE else 70
    person = PersonDraft(
        f"{prefix}-{n:06d}", f"{rng.choice(cat.FIRST_NAMES)} {surname}", _born(spec, rng, oldest)
    )
    starts_on = spec.first_day + timedelta(weeks=rng.randrange(4))
    plan = _plan(spec, rng, archetype, starts_on)
    case = Case(n, archetype, person, plan, _card(rng, prefix, n, "p", CardKind.PRIMARY))
    if rng.random() < 0.55:
        _add_carer(spec, rng, case, surname)
    return case


def _plan(
    spec: PopulationSpec, rng: random.Random, archetype: Archetype, starts_on: date
) -> PlanDraft:
    ranges = {
        Archetype.HOMECARE: (120_000, 240_000),
        Archetype.PA_EMPLOYER: (160_000, 320_000),
        Archetype.DAY_ACTIVITIES: (40_000, 120_000),
        Archetype.MIXED: (80_000, 200_000),
    }
    low, high = ranges[archetype]
    budget = rng.randrange(low, high, 1000)
    contribution = min(rng.choice([0, 0, 4000, 6000, 8000, 12000, 16000, 24000]), budget // 4)
    cash = rng.choice([0, 0, 0, 2000, 4000, 5000, 8000])
    return PlanDraft(
        kind=PlanKind.CARE_AND_SUPPORT,
        budget=budget,
        contribution=contribution,
        cash=cash,
        starts_on=starts_on,
        review_date=spec.today + timedelta(days=rng.randrange(60, 330)),
        lines=_lines(rng, archetype, budget),
    )


def _lines(rng: random.Random, archetype: Archetype, budget: int) -> list[LineDraft]:
    agency = rng.choice(cat.AGENCIES)
    shares: list[tuple[PlanCategory, str, int, str | None, EventKind | None]]
    if archetype is Archetype.HOMECARE:
        shares = [
            (_C.AGENCY_CARE, "Homecare visits", 70, agency, EventKind.DIRECT_DEBIT),
            (_C.WELLBEING, "Shopping, outings and small comforts", 15, None, None),
            (_C.TRANSPORT, "Taxis to appointments", 15, None, None),
        ]
    elif archetype is Archetype.PA_EMPLOYER:
        shares = [
            (
                _C.PA_WAGES,
                "Personal assistant's wages",
                70,
                _pa_name(rng),
                EventKind.STANDING_ORDER,
            ),
            (
                _C.HMRC_PAYE,
                "PAYE for the personal assistant",
                8,
                cat.HMRC,
                EventKind.FASTER_PAYMENT,
            ),
            (_C.PAYROLL_SERVICE, "Payroll service", 2, cat.PAYROLL, EventKind.FASTER_PAYMENT),
            (_C.DAY_ACTIVITY, "Leisure and day activities", 12, None, None),
            (_C.TRANSPORT, "Getting out and about", 8, None, None),
        ]
    elif archetype is Archetype.DAY_ACTIVITIES:
        shares = [
            (_C.DAY_ACTIVITY, "Day centre and activities", 55, None, None),
            (_C.TRANSPORT, "Taxis to the day centre", 22, None, None),
            (_C.WELLBEING, "Shopping and outings", 23, None, None),
        ]
    else:
        shares = [
            (_C.AGENCY_CARE, "Morning and evening calls", 45, agency, EventKind.DIRECT_DEBIT),
            (_C.DAY_ACTIVITY, "Day opportunities", 20, None, None),
            (_C.WELLBEING, "Shopping and outings", 20, None, None),
            (_C.TRANSPORT, "Transport", 15, None, None),
        ]
    lines = []
    left = budget
    for number, (category, description, share, payee, method) in enumerate(shares):
        amount = left if number == len(shares) - 1 else budget * share // 100
        left -= amount
        lines.append(LineDraft(category, description, amount, payee=payee, method=method))
    if archetype is Archetype.PA_EMPLOYER:
        insurer = rng.choice(cat.INSURERS)
        lines.append(
            LineDraft(
                _C.EMPLOYERS_LIABILITY_INSURANCE,
                "Employer's liability insurance (yearly)",
                rng.randrange(9000, 16000, 100),
                one_off=True,
                payee=insurer,
                method=EventKind.DIRECT_DEBIT,
            )
        )
    if archetype is Archetype.DAY_ACTIVITIES and rng.random() < 0.5:
        lines.append(
            LineDraft(
                _C.EQUIPMENT, "A riser recliner chair", rng.randrange(20000, 60000, 500), True
            )
        )
    return lines


def _add_carer(spec: PopulationSpec, rng: random.Random, case: Case, surname: str) -> None:
    shares = rng.random() < 0.6
    relationship = rng.choice(cat.HOUSEHOLD_RELATIONSHIPS if shares else cat.RELATIONSHIPS)
    family = relationship != "friend"
    name = f"{rng.choice(cat.FIRST_NAMES)} {surname if family else rng.choice(cat.SURNAMES)}"
    case.carer = PersonDraft(f"{case.person.ref}-C", name, _born(spec, rng, 85))
    case.relationship, case.shares_household = relationship, shares
    pa = next((line for line in case.plan.lines if line.category is _C.PA_WAGES), None)
    if pa is not None and shares and rng.random() < 0.3:
        pa.payee, case.carer_is_pa = name, True  # paying family at home: an agreed exception
    prefix = case.person.ref.split("-")[0]
    if rng.random() < 0.35:
        budget = rng.randrange(15_000, 50_000, 500)
        case.carer_plan = PlanDraft(
            kind=PlanKind.CARER_SUPPORT,
            budget=budget,
            contribution=0,
            cash=0,
            starts_on=case.plan.starts_on,
            review_date=case.plan.review_date,
            lines=[
                LineDraft(_C.WELLBEING, "Time for myself", budget * 60 // 100),
                LineDraft(_C.TRANSPORT, "Getting a break", budget - budget * 60 // 100),
            ],
        )
        case.carer_card = _card(rng, prefix, case.index, "c", CardKind.CARER)
    card_lines = [line for line in case.plan.lines if line.payee is None and not line.one_off]
    if pa is None and card_lines and rng.random() < 0.4:
        case.companion_card = _card(rng, prefix, case.index, "k", CardKind.COMPANION)
        for line in card_lines:
            line.companion = line.category is _C.WELLBEING


def _pa_name(rng: random.Random) -> str:
    return f"{rng.choice(cat.FIRST_NAMES)} {rng.choice(cat.SURNAMES)} (PA)"


def _card(rng: random.Random, prefix: str, n: int, suffix: str, kind: CardKind) -> CardDraft:
    last4 = f"{rng.randrange(1000, 9999):04d}"
    if last4.startswith("43"):  # the demo's story cards are 4301 onwards
        last4 = "5" + last4[1:]
    return CardDraft(kind, f"sim_{prefix.lower()}_{n:06d}_{suffix}", last4)


def _born(spec: PopulationSpec, rng: random.Random, oldest: int) -> date:
    age = rng.randrange(19, oldest)
    return spec.today - timedelta(days=365 * age + rng.randrange(365))
