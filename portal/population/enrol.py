"""Enrolling the drawn population through ``ledger.enrolment.Enrolment``: people and
carers, caring relationships, budgets, plans with their lines, cards and companion pots.
One transaction per few hundred people."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from ledger.clock import FixedClock
from ledger.enrolment import Enrolment, PlanLineSpec
from ledger.models import Account, CompanionPot, Person
from portal.population.roster import CardDraft, Case, PersonDraft, PlanDraft
from portal.population.spec import PROVIDER, PopulationSpec, at, seeded

CHUNK = 250


@dataclass
class BudgetSim:
    """A budget as the generator spends it: the plan, the owner's card, and the
    companion's card and pot when there is one. ``primary`` is the cared-for person's
    budget (a carer's own budget is not)."""

    case: Case
    plan: PlanDraft
    card: CardDraft
    rng: random.Random
    primary: bool = True
    companion: CardDraft | None = None
    pot: int = 0  # the companion pot's account
    lines_paid: dict[int, int] = field(default_factory=dict)  # one-off line -> period paid

    @property
    def budget(self) -> int:
        return self.plan.budget_id

    def account_of(self, card: CardDraft) -> int:
        return self.pot if card is self.companion else self.budget


def enrol(
    factory: sessionmaker[Session], clock: FixedClock, spec: PopulationSpec, cases: list[Case]
) -> list[BudgetSim]:
    """Enrol every case; returns the budgets to simulate, in case order."""
    clock.current = at(spec.first_day, 8)
    for first in range(0, len(cases), CHUNK):
        with factory() as session, session.begin():
            people = Enrolment(session, clock)
            for case in cases[first : first + CHUNK]:
                _enrol_case(people, case)
    sims = []
    for case in cases:
        seed = f"{spec.seed}:spend:{case.index}"
        primary = BudgetSim(case, case.plan, case.card, seeded(seed))
        primary.companion, primary.pot = case.companion_card, case.pot_account
        sims.append(primary)
        if case.carer_plan is not None and case.carer_card is not None:
            carer_rng = seeded(seed, "carer")
            sims.append(BudgetSim(case, case.carer_plan, case.carer_card, carer_rng, primary=False))
    return sims


def _enrol_case(people: Enrolment, case: Case) -> None:
    person = _person(people, case.person)
    budget = _plan(people, person, case.plan)
    _card(people, person, case.card, budget=budget)
    if case.carer is None:
        return
    carer = _person(people, case.carer)
    people.record_caring(carer, person, case.relationship, shares_household=case.shares_household)
    if case.carer_plan is not None and case.carer_card is not None:
        _card(people, carer, case.carer_card, budget=_plan(people, carer, case.carer_plan))
    if case.companion_card is not None:
        pot = people.open_companion_pot(person, budget, carer, f"{case.carer.name}'s companion pot")
        case.pot_id, case.pot_account = pot.id, pot.account_id
        _card(people, carer, case.companion_card, pot=pot)


def _person(people: Enrolment, draft: PersonDraft) -> Person:
    person = people.register_person(draft.ref, draft.name, date_of_birth=draft.born)
    draft.person_id = person.id
    return person


def _plan(people: Enrolment, person: Person, draft: PlanDraft) -> Account:
    budget = people.open_personal_budget(person)
    plan = people.agree_plan(
        person,
        budget,
        kind=draft.kind,
        budget_per_period=draft.budget,
        client_contribution_per_period=draft.contribution,
        cash_allowance_per_period=draft.cash,
        starts_on=draft.starts_on,
        review_date=draft.review_date,
        lines=[
            PlanLineSpec(
                line.category,
                line.description,
                line.amount,
                one_off=line.one_off,
                agreed_payees=(line.payee,) if line.payee else (),
            )
            for line in draft.lines
        ],
    )
    draft.plan_id, draft.budget_id = plan.id, budget.id
    for line, row in zip(draft.lines, plan.lines, strict=True):
        line.line_id = row.id
    return budget


def _card(
    people: Enrolment,
    holder: Person,
    draft: CardDraft,
    *,
    budget: Account | None = None,
    pot: CompanionPot | None = None,
) -> None:
    card = people.issue_card(
        holder,
        kind=draft.kind,
        provider=PROVIDER,
        provider_card_token=draft.token,
        last4=draft.last4,
        budget=budget,
        pot=pot,
    )
    draft.card_id = card.id
