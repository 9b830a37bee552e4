"""Small factories that build test data through the real services."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from ledger.card_payments import CardPayments
from ledger.clock import Clock
from ledger.enrolment import Enrolment, PlanLineSpec
from ledger.models import Account, Card, CardKind, CompanionPot, Person, PlanCategory, PlanKind

_ids = itertools.count(1)


@dataclass
class Household:
    """A cared-for person with a budget and primary card, and a companion with a pot."""

    person: Person
    budget: Account
    card: Card
    companion: Person
    pot: CompanionPot
    companion_card: Card


def person(session: Session, clock: Clock, name: str = "Test Person") -> Person:
    n = next(_ids)
    return Enrolment(session, clock).register_person(f"T-{n:06d}", f"{name} {n}")


def budget_with_card(
    session: Session, clock: Clock, *, loaded: int = 0
) -> tuple[Person, Account, Card]:
    enrol = Enrolment(session, clock)
    who = person(session, clock)
    budget = enrol.open_personal_budget(who)
    enrol.agree_plan(
        who,
        budget,
        kind=PlanKind.CARE_AND_SUPPORT,
        budget_per_period=100000,
        starts_on=date(2026, 4, 6),
        review_date=date(2026, 10, 6),
        lines=[PlanLineSpec(PlanCategory.AGENCY_CARE, "Homecare", 100000)],
    )
    card = enrol.issue_card(
        who,
        kind=CardKind.PRIMARY,
        provider="simulated",
        provider_card_token=f"tok_{who.id}",
        last4="1234",
        budget=budget,
    )
    if loaded:
        CardPayments(session, clock).load(
            budget.id, loaded, source="test", key=f"setup-load-{budget.id}"
        )
    return who, budget, card


def household(session: Session, clock: Clock, *, loaded: int = 0, pot: int = 0) -> Household:
    who, budget, card = budget_with_card(session, clock, loaded=loaded)
    enrol = Enrolment(session, clock)
    companion = person(session, clock, "Companion")
    the_pot = enrol.open_companion_pot(who, budget, companion, "Companion pot")
    companion_card = enrol.issue_card(
        companion,
        kind=CardKind.COMPANION,
        provider="simulated",
        provider_card_token=f"tok_c_{companion.id}",
        last4="9876",
        pot=the_pot,
    )
    if pot:
        CardPayments(session, clock).allocate_to_pot(
            the_pot.id, pot, source="test", key=f"setup-pot-{the_pot.id}"
        )
    return Household(who, budget, card, companion, the_pot, companion_card)
