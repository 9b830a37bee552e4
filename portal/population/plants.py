"""Planted cases: people given, on purpose, something a monitor must find.

Each kind names the monitor that must flag it and the subject the flag is about, in the
monitor's own terms (a card, a plan, a plan line, an account). Some plants must trip a
second monitor too, because that is what they are: a person whose care stopped three
months ago is an unmet need (``under_spend``) and, with the loads still arriving, a
surplus (``surplus``). ``assign_plants`` picks who gets what and when, from the
population's seed, and adjusts the plan where a kind needs it (a cash share for
night-time cash, a contribution to miss, a review date).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from ledger.models import PlanCategory
from monitoring.dates import period_index, period_start, working_day_on_or_before
from monitoring.scheduled_loads import due_dates
from portal.population.roster import Archetype, Case, Plant
from portal.population.spec import PopulationSpec, seeded

WEEKS = 4  # every generated plan is paid 4-weekly


@dataclass(frozen=True)
class Kind:
    name: str
    monitors: tuple[str, ...]
    subject: str  # "card", "plan", "plan_line" or "account"
    what: str


KINDS: tuple[Kind, ...] = (
    Kind("blocked_spend", ("spend_outside_plan",), "card", "a bookmaker's payment settled"),
    Kind("unplanned_spend", ("spend_outside_plan",), "card", "a hotel the plan does not cover"),
    Kind("over_allowance", ("spend_outside_plan",), "plan_line", "a line spent far beyond"),
    Kind("cash_over_share", ("cash_beyond_share",), "plan", "cash above the agreed share"),
    Kind("missed_contribution", ("missed_contribution",), "plan", "contributions stopped"),
    Kind("surplus", ("surplus",), "plan", "an interim payment left unspent"),
    Kind("unmet_need", ("under_spend", "surplus"), "plan", "care stopped 13 weeks ago"),
    Kind("rapid_drain", ("rapid_drain",), "account", "a load drained within a day"),
    Kind("spend_after_death", ("life_event_spend",), "card", "the card used after death"),
    Kind("spend_in_hospital", ("life_event_spend",), "card", "spending during a long stay"),
    Kind("household_payee", ("household_payee",), "plan", "paid the carer at home"),
    Kind("pattern_change", ("pattern_change",), "plan", "a period of spending 3x usual"),
    Kind("companion_share", ("companion_share",), "plan", "the companion spent most"),
    Kind("night_cash", ("unusual_hours_cash",), "card", "cash at 2am, night after night"),
    Kind("paye_missing", ("employer_duties",), "plan", "no PAYE to HMRC for 4 months"),
    Kind("el_insurance_missing", ("employer_duties",), "plan", "no employer's insurance"),
    Kind("review_due", ("review_due",), "plan", "the review is due or overdue"),
    Kind("reconciliation_break", ("reconciliation_break",), "card", "balances disagree"),
    Kind("arrears", ("arrears",), "account", "a settlement beyond the funds"),
)
BY_NAME = {kind.name: kind for kind in KINDS}


def assign_plants(spec: PopulationSpec, cases: list[Case]) -> None:
    """Give ``round(people * plant_share)`` people (at least one) each kind of plant."""
    rng = seeded(spec.seed, "plants")
    count = max(1, round(spec.people * spec.plant_share)) if spec.plant_share else 0
    for kind in KINDS:
        eligible = [c for c in cases if c.plant is None and _fits(spec, kind.name, c)]
        for case in rng.sample(eligible, min(count, len(eligible))):
            case.plant = _plant(spec, kind.name, case, rng)


def _fits(spec: PopulationSpec, kind: str, case: Case) -> bool:
    employs = case.archetype is Archetype.PA_EMPLOYER
    if kind in ("paye_missing", "el_insurance_missing"):
        return employs
    if kind == "unmet_need":
        return not employs
    if kind == "household_payee":
        return case.shares_household and not case.carer_is_pa
    if kind == "companion_share":
        return case.archetype is Archetype.DAY_ACTIVITIES and case.companion_card is not None
    if kind == "arrears":
        return _arrears_day_fits(spec, case)
    if kind == "rapid_drain":
        return (spec.today - _last_load(spec, case.plan.starts_on)).days <= 24
    return True


def _plant(spec: PopulationSpec, kind: str, case: Case, rng: random.Random) -> Plant:
    last, today, plan = spec.last_day, spec.today, case.plan
    k_last = period_index(plan.starts_on, WEEKS, last)
    plant = Plant(kind)
    if kind in ("blocked_spend", "unplanned_spend", "household_payee"):
        plant.day = last - timedelta(days=rng.randrange(21))
    elif kind in ("over_allowance", "cash_over_share", "companion_share"):
        plant.period = k_last - 2
        card_lines = [
            n
            for n, line in enumerate(plan.lines)
            if line.payee is None and not line.one_off and line.category is not PlanCategory.CASH
        ]
        plant.line = rng.choice(card_lines) if card_lines else 0
    elif kind == "missed_contribution":
        plan.contribution = plan.contribution or 6000
        last_checked = period_index(plan.starts_on, WEEKS, today - timedelta(days=14)) - 1
        plant.period = last_checked - rng.randrange(3)
    elif kind == "surplus":  # three and a half periods' money, kept: over the 8 weeks
        plant.day = last - timedelta(days=rng.randrange(3, 25))
        plant.amount = plan.budget * 7 // 2
    elif kind == "unmet_need":
        plant.stop = today - timedelta(weeks=13, days=rng.randrange(10))
    elif kind == "rapid_drain":  # the monitor's first run looks back 28 days
        plant.day = _last_load(spec, plan.starts_on)
    elif kind == "spend_after_death":
        plant.day = today - timedelta(days=rng.randrange(8, 18))
    elif kind == "spend_in_hospital":
        plant.day = today - timedelta(days=rng.randrange(22, 35))
    elif kind == "pattern_change":
        plant.period = k_last - 1
        plant.day = period_start(plan.starts_on, WEEKS, plant.period) + timedelta(days=2)
        plant.amount = plan.budget * 5 // 2
    elif kind == "night_cash":
        plan.cash = max(plan.cash, 10_000)
        plant.day = last - timedelta(days=rng.randrange(12, 20))
        plant.on_companion = case.companion_card is not None and rng.random() < 0.5
    elif kind == "paye_missing":
        plant.stop = today - timedelta(days=120)
    elif kind == "review_due":
        plan.review_date = today + timedelta(days=rng.randrange(-120, 25))
    elif kind == "reconciliation_break":
        plant.amount = rng.choice([-1, 1]) * rng.randrange(500, 30_000, 5)
    elif kind == "arrears":
        plant.day = last
        plant.amount = rng.randrange(2500, 15_000, 5)
    return plant


def load_days(spec: PopulationSpec, starts_on: date) -> list[date]:
    """The days the council's scheduled loads reach a plan starting on ``starts_on``."""
    dues = due_dates(starts_on, WEEKS, None, spec.first_day, spec.today + timedelta(weeks=WEEKS))
    return [working_day_on_or_before(d) for d in dues]


def _last_load(spec: PopulationSpec, starts_on: date) -> date:
    return max(day for day in load_days(spec, starts_on) if day <= spec.last_day)


def _arrears_day_fits(spec: PopulationSpec, case: Case) -> bool:
    """A shortfall on the last day stays owed: the period's load and contribution came a
    week or more before, and no load comes today (it would clear the arrears)."""
    last, plan = spec.last_day, case.plan
    k = period_index(plan.starts_on, WEEKS, last)
    started = period_start(plan.starts_on, WEEKS, k)
    following = working_day_on_or_before(period_start(plan.starts_on, WEEKS, k + 1))
    return (last - started).days >= 7 and following > spec.today
