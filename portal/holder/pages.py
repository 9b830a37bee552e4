"""What each holder page shows, read in one call per page. Every function first finds the
card through ``card_for_viewer`` and returns None when the viewer may not see it.

- the holder of a card sees it; the budget owner also sees companion cards on their pots;
- a companion card shows its pot and the pot's movements only, never the budget's;
- the plan, the next load and the pots are shown on the budget owner's own cards only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ledger.clock import Clock
from ledger.service import Balances, Ledger, Statement
from portal.holder.periods import NextLoad, Period, london_today, next_load, periods_so_far
from portal.holder.plan_summary import PlanSummary, plan_summary
from portal.repositories import holder_cards, plans
from portal.repositories.holder_cards import CardView, PotView, Relation
from portal.repositories.payments import PaymentPage, PaymentSearch, payments_page


def shows_budget(card: CardView) -> bool:
    """Whether the card's page may show the budget behind it (plan, pots, loads)."""
    return card.relation is Relation.OWN and not card.is_companion


@dataclass(frozen=True)
class CardPage:
    card: CardView
    balances: Balances
    pots: list[PotView]
    next_load: NextLoad | None
    has_plan: bool


def card_page(session: Session, clock: Clock, person_id: int, card_id: int) -> CardPage | None:
    card = holder_cards.card_for_viewer(session, person_id, card_id)
    if card is None:
        return None
    balances = card.balances
    if not shows_budget(card):
        return CardPage(card, balances, [], None, False)
    plan = plans.active_plan(session, card.budget_account_id, lines=False)
    return CardPage(
        card,
        balances,
        holder_cards.pots_of_budget(session, card.budget_account_id),
        next_load(plan, london_today(clock)) if plan is not None else None,
        plan is not None,
    )


@dataclass(frozen=True)
class PaymentsPage:
    card: CardView
    page: PaymentPage


def card_payments(
    session: Session,
    person_id: int,
    card_id: int,
    search: PaymentSearch,
    *,
    before: int | None,
    after: int | None,
) -> PaymentsPage | None:
    card = holder_cards.card_for_viewer(session, person_id, card_id)
    if card is None:
        return None
    page = payments_page(session, card.account_id, search, before=before, after=after)
    return PaymentsPage(card, page)


@dataclass(frozen=True)
class PlanPage:
    card: CardView
    summary: PlanSummary


def card_plan(session: Session, clock: Clock, person_id: int, card_id: int) -> PlanPage | None:
    card = holder_cards.card_for_viewer(session, person_id, card_id)
    if card is None or not shows_budget(card):
        return None
    summary = plan_summary(session, clock, card.budget_account_id)
    return PlanPage(card, summary) if summary is not None else None


@dataclass(frozen=True)
class StatementsPage:
    card: CardView
    periods: list[Period]


def statement_periods(
    session: Session, clock: Clock, person_id: int, card_id: int
) -> StatementsPage | None:
    """The periods a card has statements for: those of the plan funding its budget."""
    card = holder_cards.card_for_viewer(session, person_id, card_id)
    if card is None:
        return None
    plan = plans.active_plan(session, card.budget_account_id, lines=False)
    periods = periods_so_far(plan, london_today(clock)) if plan is not None else []
    return StatementsPage(card, periods)


@dataclass(frozen=True)
class PeriodStatement:
    card: CardView
    period: Period
    statement: Statement


def period_statement(
    session: Session, clock: Clock, person_id: int, card_id: int, number: int
) -> PeriodStatement | None:
    """The statement of the card's account for one period so far, else None."""
    found = statement_periods(session, clock, person_id, card_id)
    if found is None:
        return None
    for period in found.periods:
        if period.number == number:
            statement = Ledger(session, clock).statement(
                found.card.account_id, period.start_at, period.end_at
            )
            return PeriodStatement(found.card, period, statement)
    return None
