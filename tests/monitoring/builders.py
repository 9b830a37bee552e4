"""Crafted histories for monitor tests, built through the real ledger services."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from ledger.card_payments import CardPayments
from ledger.clock import FixedClock
from ledger.enrolment import Enrolment, PlanLineSpec
from ledger.models import (
    Account,
    Card,
    CardKind,
    CompanionPot,
    Person,
    Plan,
    PlanCategory,
    PlanKind,
    TransferCode,
)

_ids = itertools.count(1)

START = date(2026, 4, 6)  # a Monday (Easter Monday 2026)


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@dataclass
class Case:
    person: Person
    budget: Account
    plan: Plan
    card: Card
    pot: CompanionPot | None = None
    companion: Person | None = None
    companion_card: Card | None = None


class World:
    """People with plans, cards and histories; moves the clock to date each movement."""

    def __init__(self, session: Session, clock: FixedClock) -> None:
        self.session = session
        self.clock = clock
        self.enrol = Enrolment(session, clock)
        self.ledger = CardPayments(session, clock)

    def key(self, what: str) -> str:
        return f"{what}-{next(_ids)}"

    def case(
        self,
        lines: Sequence[PlanLineSpec] = (),
        *,
        budget: int = 100000,
        contribution: int = 0,
        cash: int = 0,
        starts_on: date = START,
        review_date: date = date(2027, 4, 6),
        period_weeks: int = 4,
        load: int = 0,
        email: str | None = None,
        companion: bool = False,
    ) -> Case:
        n = next(_ids)
        person = self.enrol.register_person(f"M-{n:06d}", f"Person {n}", email=email)
        account = self.enrol.open_personal_budget(person)
        plan = self.enrol.agree_plan(
            person,
            account,
            kind=PlanKind.CARE_AND_SUPPORT,
            budget_per_period=budget,
            client_contribution_per_period=contribution,
            cash_allowance_per_period=cash,
            starts_on=starts_on,
            review_date=review_date,
            period_weeks=period_weeks,
            lines=list(lines) or [PlanLineSpec(PlanCategory.AGENCY_CARE, "Homecare", budget)],
        )
        card = self.enrol.issue_card(
            person,
            kind=CardKind.PRIMARY,
            provider="simulated",
            provider_card_token=f"tok-{n}",
            last4="1234",
            budget=account,
        )
        case = Case(person, account, plan, card)
        if companion:
            carer = self.enrol.register_person(f"M-{n:06d}-c", f"Companion {n}")
            case.companion = carer
            case.pot = self.enrol.open_companion_pot(person, account, carer, "Pot")
            case.companion_card = self.enrol.issue_card(
                carer,
                kind=CardKind.COMPANION,
                provider="simulated",
                provider_card_token=f"tok-{n}-c",
                last4="9876",
                pot=case.pot,
            )
        if load:
            self.load(case, load, at(starts_on, 6))
        return case

    def load(self, case: Case, amount: int, when: datetime, *, pot: int = 0) -> int:
        self.clock.current = when
        records = self.ledger.load(
            case.budget.id,
            amount,
            source="test",
            key=self.key("load"),
            pot_top_ups={case.pot.id: pot} if pot and case.pot else None,
        )
        return records[0].id

    def spend(
        self,
        card: Card,
        amount: int,
        when: datetime,
        *,
        mcc: str = "8050",
        merchant: str = "Merchant",
        code: TransferCode = TransferCode.CARD_SPEND,
    ) -> int:
        """An authorised and settled card payment at ``when``: returns the posting's id."""
        self.clock.current = when
        result = self.ledger.authorise(
            card.id,
            amount,
            source="test",
            key=self.key("auth"),
            merchant_name=merchant,
            mcc=mcc,
            code=code,
        )
        assert result.approved and result.hold_id is not None, result.decline_reason
        (posted,) = self.ledger.post_hold(
            result.hold_id, amount, source="test", key=self.key("post")
        )
        return posted.id

    def cash(self, card: Card, amount: int, when: datetime) -> int:
        return self.spend(
            card,
            amount,
            when,
            mcc="6011",
            merchant="Cash machine",
            code=TransferCode.CASH_WITHDRAWAL,
        )

    def pay(
        self,
        case: Case,
        amount: int,
        when: datetime,
        payee: str,
        method: TransferCode = TransferCode.FASTER_PAYMENT,
    ) -> int:
        self.clock.current = when
        (record, *_) = self.ledger.record_bank_payment(
            case.budget.id, amount, method=method, payee=payee, source="test", key=self.key("pay")
        )
        return record.id

    def contribute(self, case: Case, amount: int, when: datetime) -> int:
        self.clock.current = when
        (record,) = self.ledger.receive_contribution(
            case.budget.id, amount, source="test", key=self.key("contribution"), effective_at=when
        )
        return record.id
