"""A plan period's spending, planned when the period's load arrives.

Each recurring line is spent at 90-99% of its allowance (100-106% when the budget has
built up more than a third of a period in hand, so balances stay level and no surplus
grows by accident): bank-paid lines by direct debit, standing order or Faster Payment to
their agreed payee, the rest by card at merchants whose MCC means the line's category.
One-off lines are paid once. The client contribution is paid in on the first day or the next;
cash stays within the plan's share. A few card payments are held first and settled or
reversed the next day, and a few are refunded. Planted cases change their own periods
(``portal.population.planted``).
"""

from __future__ import annotations

from datetime import date, timedelta

from adapters.canonical import EventKind
from ledger.models import PlanCategory
from portal.population import catalogue as cat
from portal.population import planted
from portal.population.book import Planned
from portal.population.enrol import BudgetSim
from portal.population.events import Events
from portal.population.roster import CardDraft, LineDraft
from portal.population.spec import at

MIN_PAYMENT = 300
LENGTH = 28  # days in a plan period


def period_plan(
    events: Events, sim: BudgetSim, k: int, start: date, in_hand: int
) -> tuple[list[Planned], int]:
    """The period's provider events, and what to allocate to the companion pot for it.
    ``in_hand`` is what the budget held before this period's load."""
    rng, plan = sim.rng, sim.plan
    low, high = (100, 106) if in_hand * 3 > plan.budget else (90, 99)
    out: list[Planned] = []
    for line in plan.lines:
        if line.one_off:
            out += _one_off(events, sim, line, k, start)
        elif line.payee is not None and line.method is not None:
            out += _bank_line(events, sim, line, start, line.amount * rng.randint(low, high) // 100)
        else:
            out += _card_line(events, sim, line, start, line.amount * rng.randint(low, high) // 100)
    if plan.contribution:  # paid in as the period starts, before the first bank payment
        day = start + timedelta(days=rng.randint(0, 1))
        out.append(events.contribution(sim, at(day, 12, rng.randrange(60)), plan.contribution))
    if plan.cash and rng.random() < 0.7:
        out += _cash(events, sim, start, plan.cash)
    out = planted.adjust_period(events, sim, k, start, out)
    out += _refunds(events, sim, out)
    companion = sim.companion
    pot = sum(p.event.amount for p in out if companion and p.event.card_token == companion.token)
    return out, pot + pot // 20


def _bank_line(
    events: Events, sim: BudgetSim, line: LineDraft, start: date, amount: int
) -> list[Planned]:
    assert line.payee is not None and line.method is not None
    rng = sim.rng
    reference = line.description[:40]
    if line.method is EventKind.STANDING_ORDER:  # weekly wages
        weekly = amount // 4
        return [
            events.bank(
                sim,
                at(start + timedelta(days=3 + 7 * week), 6, 30),
                line.method,
                line.payee,
                weekly if week < 3 else amount - 3 * weekly,
                reference,
            )
            for week in range(4)
        ]
    day = rng.randint(2, 4) if line.method is EventKind.DIRECT_DEBIT else rng.randint(15, 20)
    when = at(start + timedelta(days=day), 7 if line.method is EventKind.DIRECT_DEBIT else 10)
    return [events.bank(sim, when, line.method, line.payee, amount, reference)]


def _card_line(
    events: Events, sim: BudgetSim, line: LineDraft, start: date, amount: int
) -> list[Planned]:
    rng = sim.rng
    merchants = cat.MERCHANTS[line.category]
    typical = sum((m.low + m.high) // 2 for m in merchants) // len(merchants)
    count = max(1, min(6, amount // typical))
    out: list[Planned] = []
    left = amount
    for n in range(count):
        part = left if n == count - 1 else left * rng.randint(60, 140) // (100 * (count - n))
        left -= part
        if part < MIN_PAYMENT:
            continue
        card = _card_for(sim, line)
        day = rng.randrange(LENGTH)
        when = at(start + timedelta(days=day), rng.randint(8, 19), rng.randrange(60))
        merchant = rng.choice(merchants)
        chance = rng.random() if day < LENGTH - 2 else 1.0  # held ones settle in the period
        if chance < 0.004:
            out += events.held_spend(sim, card, when, merchant, part, reversed_=False)
        elif chance < 0.006:
            out += events.held_spend(sim, card, when, merchant, part, reversed_=True)
        else:
            out.append(events.spend(sim, card, when, merchant, part))
    return out


def _card_for(sim: BudgetSim, line: LineDraft) -> CardDraft:
    if line.companion and sim.companion is not None and sim.rng.random() < 0.4:
        return sim.companion
    return sim.card


def _one_off(events: Events, sim: BudgetSim, line: LineDraft, k: int, start: date) -> list[Planned]:
    """Employer's liability insurance each year from the first period; equipment once,
    in the second."""
    rng = sim.rng
    if line.category is PlanCategory.EMPLOYERS_LIABILITY_INSURANCE and k % 13 == 0:
        assert line.payee is not None and line.method is not None
        when = at(start + timedelta(days=rng.randint(3, 9)), 8)
        reference = f"Policy renewal {start.year}"
        return [events.bank(sim, when, line.method, line.payee, line.amount, reference)]
    if line.category is PlanCategory.EQUIPMENT and k == 1:
        merchant = cat.MERCHANTS[PlanCategory.EQUIPMENT][0]
        when = at(start + timedelta(days=rng.randint(5, 20)), 11, rng.randrange(60))
        return [
            events.spend(sim, sim.card, when, merchant, line.amount * rng.randint(90, 100) // 100)
        ]
    return []


def _cash(events: Events, sim: BudgetSim, start: date, allowance: int) -> list[Planned]:
    rng = sim.rng
    total = allowance * rng.randint(50, 100) // 100 // 1000 * 1000
    if total <= 0:
        return []
    parts = [total] if total < 4000 or rng.random() < 0.5 else [total // 2, total - total // 2]
    out = []
    for part in parts:
        card = sim.companion if sim.companion is not None and rng.random() < 0.2 else sim.card
        when = at(
            start + timedelta(days=rng.randrange(LENGTH)), rng.randint(9, 18), rng.randrange(60)
        )
        out.append(events.spend(sim, card, when, cat.CASH_MACHINE, part))
    return out


def _refunds(events: Events, sim: BudgetSim, planned: list[Planned]) -> list[Planned]:
    """A few card payments are refunded within a week (never on planted cases)."""
    if sim.case.plant is not None:
        return []
    rng, out = sim.rng, []
    for item in planned:
        event = item.event
        if event.kind is not EventKind.CLEARING or event.payment_id or event.cash or item.plant:
            continue
        if rng.random() < 0.02:
            merchant = cat.Merchant(event.merchant_name or "", event.mcc or "", 0, 0)
            card = (
                sim.companion
                if sim.companion and event.card_token == sim.companion.token
                else sim.card
            )
            amount = event.amount if rng.random() < 0.5 else event.amount // 2
            when = item.at + timedelta(days=rng.randint(1, 7), hours=1)
            out.append(events.refund(sim, card, when, merchant, amount))
    return out
