"""Setting people up: people and carers, budgets, plans and plan lines, cards and pots.

These services create the domain records the ledger serves. They flush, never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from ledger.clock import Clock, SystemClock
from ledger.errors import InvalidRecord
from ledger.models import (
    Account,
    AccountKind,
    Card,
    CardKind,
    CardStatus,
    CaringRelationship,
    CompanionPot,
    Person,
    Plan,
    PlanCategory,
    PlanKind,
    PlanLine,
    PlanStatus,
)


@dataclass(frozen=True)
class PlanLineSpec:
    category: PlanCategory
    description: str
    amount_per_period: int
    meets_needs_of_id: int | None = None
    one_off: bool = False
    agreed_payees: Sequence[str] = field(default_factory=tuple)
    merchant_categories: Sequence[str] = field(default_factory=tuple)


class Enrolment:
    """Creates people, their budgets, plans, cards and companion pots."""

    def __init__(self, session: Session, clock: Clock | None = None) -> None:
        self.session = session
        self.clock = clock or SystemClock()

    def register_person(
        self,
        council_reference: str,
        full_name: str,
        *,
        date_of_birth: date | None = None,
        email: str | None = None,
    ) -> Person:
        if not council_reference.strip() or not full_name.strip():
            raise InvalidRecord("a person needs a council reference and a name")
        person = Person(
            council_reference=council_reference.strip(),
            full_name=full_name.strip(),
            date_of_birth=date_of_birth,
            email=email,
            created_at=self.clock.now(),
        )
        self.session.add(person)
        self.session.flush()
        return person

    def record_caring(
        self, carer: Person, cared_for: Person, relationship: str, *, shares_household: bool
    ) -> CaringRelationship:
        if carer.id == cared_for.id:
            raise InvalidRecord("a person cannot be their own carer")
        link = CaringRelationship(
            carer_id=carer.id,
            cared_for_id=cared_for.id,
            relationship=relationship,
            shares_household=shares_household,
        )
        self.session.add(link)
        self.session.flush()
        return link

    def open_personal_budget(self, person: Person, name: str | None = None) -> Account:
        """A no-overdraft personal budget account, with the arrears account that records
        any shortfall on payments the provider settles beyond it."""
        now = self.clock.now()
        budget = Account(
            kind=AccountKind.PERSONAL_BUDGET,
            name=name or f"Personal budget: {person.full_name}",
            owner_id=person.id,
            no_overdraft=True,
            created_at=now,
        )
        self.session.add(budget)
        self.session.flush()
        self.session.add(
            Account(
                kind=AccountKind.ARREARS,
                name=f"Arrears: {person.full_name}",
                owner_id=person.id,
                parent_id=budget.id,
                no_overdraft=False,
                created_at=now,
            )
        )
        self.session.flush()
        return budget

    def agree_plan(
        self,
        person: Person,
        budget: Account,
        *,
        kind: PlanKind,
        budget_per_period: int,
        starts_on: date,
        review_date: date,
        lines: Sequence[PlanLineSpec],
        client_contribution_per_period: int = 0,
        cash_allowance_per_period: int = 0,
        period_weeks: int = 4,
        joint_with: Plan | None = None,
    ) -> Plan:
        """An active plan funding ``budget``; its lines may not exceed its budget."""
        if budget.owner_id != person.id or budget.kind is not AccountKind.PERSONAL_BUDGET:
            raise InvalidRecord("a plan funds the person's own personal budget account")
        recurring = sum(line.amount_per_period for line in lines if not line.one_off)
        if recurring > budget_per_period:
            raise InvalidRecord("the plan lines add up to more than the budget per period")
        if min(budget_per_period, client_contribution_per_period, cash_allowance_per_period) < 0:
            raise InvalidRecord("plan amounts cannot be negative")
        plan = Plan(
            person_id=person.id,
            kind=kind,
            status=PlanStatus.ACTIVE,
            budget_account_id=budget.id,
            period_weeks=period_weeks,
            budget_per_period=budget_per_period,
            client_contribution_per_period=client_contribution_per_period,
            cash_allowance_per_period=cash_allowance_per_period,
            starts_on=starts_on,
            review_date=review_date,
            joint_with_plan_id=joint_with.id if joint_with else None,
        )
        plan.lines = [
            PlanLine(
                category=line.category,
                description=line.description,
                amount_per_period=line.amount_per_period,
                one_off=line.one_off,
                agreed_payees=list(line.agreed_payees),
                merchant_categories=list(line.merchant_categories),
                meets_needs_of_id=line.meets_needs_of_id or person.id,
            )
            for line in lines
        ]
        self.session.add(plan)
        self.session.flush()
        if joint_with is not None and joint_with.joint_with_plan_id is None:
            joint_with.joint_with_plan_id = plan.id
        return plan

    def open_companion_pot(
        self, cared_for: Person, budget: Account, companion: Person, name: str
    ) -> CompanionPot:
        """A pot inside the cared-for person's budget, for one companion's card."""
        if budget.owner_id != cared_for.id:
            raise InvalidRecord("a companion pot belongs to the cared-for person's budget")
        now = self.clock.now()
        pot_account = Account(
            kind=AccountKind.COMPANION_POT,
            name=f"Companion pot: {name}",
            owner_id=cared_for.id,
            parent_id=budget.id,
            no_overdraft=True,
            created_at=now,
        )
        self.session.add(pot_account)
        self.session.flush()
        pot = CompanionPot(
            name=name,
            cared_for_id=cared_for.id,
            companion_id=companion.id,
            budget_account_id=budget.id,
            account_id=pot_account.id,
            created_at=now,
        )
        self.session.add(pot)
        self.session.flush()
        return pot

    def issue_card(
        self,
        holder: Person,
        *,
        kind: CardKind,
        provider: str,
        provider_card_token: str,
        last4: str,
        budget: Account | None = None,
        pot: CompanionPot | None = None,
    ) -> Card:
        """A card on a budget (primary, carer) or on a companion pot (companion)."""
        if len(last4) != 4 or not last4.isdigit():
            raise InvalidRecord("only the last four digits of a card number are kept")
        if kind is CardKind.COMPANION:
            if pot is None or pot.companion_id != holder.id:
                raise InvalidRecord("a companion card draws on its holder's companion pot")
            account_id = pot.account_id
        else:
            if budget is None or budget.owner_id != holder.id:
                raise InvalidRecord("a primary or carer's card draws on its holder's own budget")
            account_id = budget.id
        card = Card(
            kind=kind,
            status=CardStatus.ACTIVE,
            holder_id=holder.id,
            account_id=account_id,
            pot_id=pot.id if pot else None,
            provider=provider,
            provider_card_token=provider_card_token,
            last4=last4,
            issued_at=self.clock.now(),
        )
        self.session.add(card)
        self.session.flush()
        return card
